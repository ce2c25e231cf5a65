import ArgumentParser
import GuestAccessServer

/// The email delivery flags of `guestd`.
struct EmailOptions: ParsableArguments {
  @Option(name: .customLong("email-transport"), help: "How the outbox is delivered: spool (default) or smtp.")
  var transport: String?

  @Option(name: .customLong("spool-dir"), help: "Directory of the spool transport's .eml files (default <data-dir>/outbox).")
  var spoolDir: String?

  @Option(name: .customLong("email-from"), help: "The sender, \"Name <address>\" (default GuestAccess <no-reply@public-base-url host>).")
  var from: String?

  @Option(name: .customLong("email-max-attempts"), help: "Delivery attempts before a message fails for good (default 8).")
  var maxAttempts: Int?

  @Option(name: .customLong("email-retry-delay"), help: "Seconds before the first retry; each later one waits twice as long, at most an hour (default 30).")
  var retryDelay: Double?

  @Option(name: .customLong("smtp-host"), help: "The SMTP relay's host name or address (smtp transport).")
  var smtpHost: String?

  @Option(name: .customLong("smtp-port"), help: "The SMTP relay's port (default 25).")
  var smtpPort: Int?

  @Option(name: .customLong("smtp-username"), help: "User name for SMTP AUTH (PLAIN or LOGIN); needs a password.")
  var smtpUsername: String?

  @Option(name: .customLong("smtp-password"), help: "Password for SMTP AUTH (prefer --smtp-password-file or GUESTD_SMTP_PASSWORD: flags show in ps).")
  var smtpPassword: String?

  @Option(name: .customLong("smtp-password-file"), help: "File holding the SMTP AUTH password.")
  var smtpPasswordFile: String?

  @Option(name: .customLong("smtp-starttls"), help: "auto (when offered, default), required, or off.")
  var smtpStartTLS: String?

  @Option(name: .customLong("smtp-ca-file"), help: "PEM file of CA certificates to verify the relay (default: the system's).")
  var smtpCAFile: String?

  @Option(name: .customLong("smtp-timeout"), help: "Seconds to wait for each SMTP reply (default 60; connecting waits at most 10).")
  var smtpTimeout: Double?

  /// The email settings these flags and the environment describe.
  func settings(publicBaseURL: String, environment: [String: String]) throws -> EmailSettings {
    try EmailSettings(
      transport: transport, spoolDir: spoolDir, smtpHost: smtpHost, smtpPort: smtpPort, smtpUsername: smtpUsername,
      smtpPassword: try smtpPasswordFile.map(GuestD.readKey) ?? smtpPassword, smtpStartTLS: smtpStartTLS,
      smtpCAFile: smtpCAFile, smtpTimeout: smtpTimeout, from: from, maxAttempts: maxAttempts, retryDelay: retryDelay,
      publicBaseURL: publicBaseURL, environment: environment)
  }
}
