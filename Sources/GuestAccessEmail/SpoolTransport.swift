#if canImport(Glibc)
import Glibc
#endif

/// The embedded transport: each message becomes one `.eml` file (RFC 5322,
/// CRLF line ends) in a directory, for a mail system or a person to pick up.
///
/// Files appear atomically: the message is written to a hidden temporary
/// file in the same directory, flushed with fsync, renamed to
/// `<Message-ID>.eml`, and the directory is fsynced. The name derives from
/// the request (the outbox row it came from), so delivering the same message again (after a crash
/// between the rename and the database update) replaces the file instead of
/// adding a second one: with this transport delivery is exactly once.
public struct SpoolTransport: EmailTransport {
  /// The directory the files go to.
  public let directory: String
  public var name: String { "spool" }

  /// Uses `directory`, creating it (owner-only) if needed.
  public init(directory: String) throws(EmailDeliveryError) {
    self.directory = directory
    try Self.makeDirectories(directory)
  }

  /// The file name of a message.
  public static func fileName(for message: EmailMessage) -> String {
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_@".utf8)
    let safe = String(decoding: message.messageID.utf8.map { allowed.contains($0) ? $0 : UInt8(ascii: "_") }, as: UTF8.self)
    return safe + ".eml"
  }

  public func deliver(_ message: EmailMessage) throws(EmailDeliveryError) -> DeliveryReceipt {
    let name = Self.fileName(for: message)
    let final = directory + "/" + name
    let temporary = directory + "/." + name + ".tmp"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw Self.failure("cannot create \(temporary)") }
    var written = 0
    let ok = message.data.withUnsafeBytes { raw -> Bool in
      while written < raw.count {
        let n = write(fd, raw.baseAddress! + written, raw.count - written)
        if n < 0 {
          if errno == EINTR { continue }
          return false
        }
        written += n
      }
      return true
    }
    guard ok, fsync(fd) == 0 else {
      let failure = Self.failure("cannot write \(temporary)")
      close(fd)
      unlink(temporary)
      throw failure
    }
    guard close(fd) == 0 else {
      let failure = Self.failure("cannot close \(temporary)")
      unlink(temporary)
      throw failure
    }
    guard rename(temporary, final) == 0 else {
      let failure = Self.failure("cannot rename to \(final)")
      unlink(temporary)
      throw failure
    }
    let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if directoryFD >= 0 {
      defer { close(directoryFD) }
      guard fsync(directoryFD) == 0 else { throw Self.failure("cannot fsync \(directory)") }
    }
    return DeliveryReceipt(confirmation: "spooled as \(final)")
  }

  private static func failure(_ what: String) -> EmailDeliveryError {
    .transient("\(what): \(String(cString: strerror(errno)))")
  }

  private static func makeDirectories(_ path: String) throws(EmailDeliveryError) {
    var prefix = path.hasPrefix("/") ? "" : "."
    for component in path.split(separator: "/") {
      prefix += "/" + component
      if mkdir(prefix, 0o700) != 0 && errno != EEXIST {
        throw failure("cannot create spool directory \(prefix)")
      }
    }
    var info = stat()
    guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
      throw .permanent("spool directory \(path) is not a directory")
    }
  }
}
