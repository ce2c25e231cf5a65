import ArgumentParser
import GuestAccessServer

/// The email delivery flags of `guestd` (`EmailSettings.table`).
struct EmailOptions: ParsableArguments {
  @Option(name: .customLong(EmailSettings.transportSetting.flag), help: GuestD.help(EmailSettings.transportSetting))
  var transport: String?

  @Option(name: .customLong(EmailSettings.spoolDirSetting.flag), help: GuestD.help(EmailSettings.spoolDirSetting))
  var spoolDir: String?

  @Option(name: .customLong(EmailSettings.fromSetting.flag), help: GuestD.help(EmailSettings.fromSetting))
  var from: String?

  @Option(name: .customLong(EmailSettings.maxAttemptsSetting.flag), help: GuestD.help(EmailSettings.maxAttemptsSetting))
  var maxAttempts: String?

  @Option(name: .customLong(EmailSettings.retryDelaySetting.flag), help: GuestD.help(EmailSettings.retryDelaySetting))
  var retryDelay: String?

  @Option(name: .customLong(EmailSettings.smtpHostSetting.flag), help: GuestD.help(EmailSettings.smtpHostSetting))
  var smtpHost: String?

  @Option(name: .customLong(EmailSettings.smtpPortSetting.flag), help: GuestD.help(EmailSettings.smtpPortSetting))
  var smtpPort: String?

  @Option(name: .customLong(EmailSettings.smtpUsernameSetting.flag), help: GuestD.help(EmailSettings.smtpUsernameSetting))
  var smtpUsername: String?

  @Option(name: .customLong(EmailSettings.smtpPasswordSetting.flag), help: GuestD.help(EmailSettings.smtpPasswordSetting))
  var smtpPassword: String?

  @Option(name: .customLong("smtp-password-file"), help: "File holding the SMTP AUTH password (instead of --smtp-password).")
  var smtpPasswordFile: String?

  @Option(name: .customLong(EmailSettings.smtpStartTLSSetting.flag), help: GuestD.help(EmailSettings.smtpStartTLSSetting))
  var smtpStartTLS: String?

  @Option(name: .customLong(EmailSettings.smtpCAFileSetting.flag), help: GuestD.help(EmailSettings.smtpCAFileSetting))
  var smtpCAFile: String?

  @Option(name: .customLong(EmailSettings.smtpTimeoutSetting.flag), help: GuestD.help(EmailSettings.smtpTimeoutSetting))
  var smtpTimeout: String?

  /// The email settings these flags and the environment describe.
  func settings(publicBaseURL: String, environment: [String: String]) throws -> EmailSettings {
    let given: [(any SettingDescription, String?)] = [
      (EmailSettings.transportSetting, transport), (EmailSettings.spoolDirSetting, spoolDir), (EmailSettings.fromSetting, from),
      (EmailSettings.maxAttemptsSetting, maxAttempts), (EmailSettings.retryDelaySetting, retryDelay),
      (EmailSettings.smtpHostSetting, smtpHost), (EmailSettings.smtpPortSetting, smtpPort),
      (EmailSettings.smtpUsernameSetting, smtpUsername),
      (EmailSettings.smtpPasswordSetting, try smtpPasswordFile.map(GuestD.readKey) ?? smtpPassword),
      (EmailSettings.smtpStartTLSSetting, smtpStartTLS), (EmailSettings.smtpCAFileSetting, smtpCAFile),
      (EmailSettings.smtpTimeoutSetting, smtpTimeout),
    ]
    var flags: [String: String] = [:]
    for (setting, value) in given { if let value { flags[setting.flag] = value } }
    return try EmailSettings(flags: flags, publicBaseURL: publicBaseURL, environment: environment)
  }
}
