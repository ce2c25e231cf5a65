import ArgumentParser
import GuestAccessServer

/// The TLS flags of `guestd` (the RPC port; `TLSSettings.table`).
struct TLSFlags: ParsableArguments {
  @Option(name: .customLong(TLSSettings.certificateSetting.flag), help: GuestD.help(TLSSettings.certificateSetting))
  var certificate: String?

  @Option(name: .customLong(TLSSettings.keySetting.flag), help: GuestD.help(TLSSettings.keySetting))
  var key: String?

  @Option(name: .customLong(TLSSettings.clientCASetting.flag), help: GuestD.help(TLSSettings.clientCASetting))
  var clientCA: String?

  @Option(name: .customLong(TLSSettings.reloadIntervalSetting.flag), help: GuestD.help(TLSSettings.reloadIntervalSetting))
  var reloadInterval: String?

  @Flag(name: .customLong(TLSSettings.allowPlaintextSetting.flag), help: GuestD.help(TLSSettings.allowPlaintextSetting))
  var allowPlaintext = false

  /// The TLS settings these flags and the environment describe.
  func settings(host: String, environment: [String: String]) throws -> TLSSettings {
    let given: [(any SettingDescription, String?)] = [
      (TLSSettings.certificateSetting, certificate), (TLSSettings.keySetting, key), (TLSSettings.clientCASetting, clientCA),
      (TLSSettings.reloadIntervalSetting, reloadInterval), (TLSSettings.allowPlaintextSetting, allowPlaintext ? "1" : nil),
    ]
    var flags: [String: String] = [:]
    for (setting, value) in given { if let value { flags[setting.flag] = value } }
    return try TLSSettings(flags: flags, host: host, environment: environment)
  }
}
