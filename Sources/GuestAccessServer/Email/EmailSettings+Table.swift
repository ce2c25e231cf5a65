import GuestAccessEmail

/// The email settings of `guestd`, written once: its flags, `--help`,
/// `EmailSettings` and the table in docs/EMAIL.md come from here (a test
/// holds the doc to it).
extension EmailSettings {
  public static let transportSetting = ServerSetting<Transport>(
    "email-transport", "GUESTD_EMAIL_TRANSPORT", default: .spool, accepts: "spool or smtp",
    help: "How the outbox is delivered: spool or smtp.") { Transport(rawValue: $0.lowercased()) }
  public static let spoolDirSetting = ServerSetting.text(
    "spool-dir", "GUESTD_SPOOL_DIR", default: nil, defaultText: "<data-dir>/outbox", accepts: "a directory",
    help: "Directory of the spool transport's .eml files.")
  public static let fromSetting = ServerSetting<EmailAddress>(
    "email-from", "GUESTD_EMAIL_FROM", default: nil, defaultText: "GuestAccess <no-reply@HOST of --public-base-url>",
    accepts: "an address or \"Name <address>\"", help: "The sender (From and envelope sender).") { EmailAddress(parsing: $0) }
  public static let maxAttemptsSetting = ServerSetting.integer(
    "email-max-attempts", "GUESTD_EMAIL_MAX_ATTEMPTS", default: 8, range: 1...1000,
    help: "Delivery attempts before a message fails for good.")
  public static let retryDelaySetting = ServerSetting.seconds(
    "email-retry-delay", "GUESTD_EMAIL_RETRY_DELAY", default: 30, range: 0...3600,
    help: "Seconds before the first retry; each later one waits twice as long, at most an hour.")
  public static let smtpHostSetting = ServerSetting.text(
    "smtp-host", "GUESTD_SMTP_HOST", default: nil, defaultText: "none (required for smtp)", accepts: "a host name or address",
    help: "The SMTP relay's host name or address (smtp transport).")
  public static let smtpPortSetting = ServerSetting.integer(
    "smtp-port", "GUESTD_SMTP_PORT", default: 25, range: 1...65535, help: "The SMTP relay's port.")
  public static let smtpUsernameSetting = ServerSetting.text(
    "smtp-username", "GUESTD_SMTP_USERNAME", default: nil, accepts: "a user name",
    help: "User name for SMTP AUTH (PLAIN or LOGIN); needs a password.")
  public static let smtpPasswordSetting = ServerSetting.text(
    "smtp-password", "GUESTD_SMTP_PASSWORD", default: nil, accepts: "a password",
    help: "Password for SMTP AUTH (prefer --smtp-password-file or GUESTD_SMTP_PASSWORD: flags show in ps).")
  public static let smtpStartTLSSetting = ServerSetting<SMTPConfiguration.StartTLS>(
    "smtp-starttls", "GUESTD_SMTP_STARTTLS", default: .auto, accepts: "auto, required or off",
    help: "STARTTLS: auto (when offered), required, or off.") { SMTPConfiguration.StartTLS(rawValue: $0.lowercased()) }
  public static let smtpCAFileSetting = ServerSetting.text(
    "smtp-ca-file", "GUESTD_SMTP_CA_FILE", default: nil, defaultText: "the system's CA store", accepts: "a file",
    help: "PEM file of CA certificates to verify the relay.")
  public static let smtpTimeoutSetting = ServerSetting.seconds(
    "smtp-timeout", "GUESTD_SMTP_TIMEOUT", default: 60, range: 1...3600,
    help: "Seconds to wait for each SMTP reply (connecting waits at most 10).")

  /// Every email setting, in the order of `--help` and docs/EMAIL.md.
  public static let table: [any SettingDescription] = [
    transportSetting, spoolDirSetting, fromSetting, maxAttemptsSetting, retryDelaySetting, smtpHostSetting, smtpPortSetting,
    smtpUsernameSetting, smtpPasswordSetting, smtpStartTLSSetting, smtpCAFileSetting, smtpTimeoutSetting,
  ]
}
