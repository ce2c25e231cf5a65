import GuestAccessLocks

#if canImport(Glibc)
import Glibc
#endif

/// The server's current TLS context, replaced when its files change: new
/// connections take the newest context, established ones keep the one they
/// started with (each `SSL` holds a reference to its `SSL_CTX`).
public final class ReloadingServerContext: Sendable {
  private struct State {
    var context: TLSContext
    var stamps: [FileStamp]
  }

  /// The files the context is made from.
  public let options: TLSServerOptions
  /// What ALPN selects.
  public let application: TLSApplicationProtocol
  private let state: LockedValue<State>

  /// Loads the context; fails when a file is missing or invalid.
  public init(options: TLSServerOptions, application: TLSApplicationProtocol = .rpc) throws(TLSError) {
    self.options = options
    self.application = application
    let stamps = Self.stamps(options)
    state = LockedValue(State(context: try TLSContext(server: options, application: application), stamps: stamps))
  }

  /// The context new connections use.
  public var current: TLSContext { state.withLock { $0.context } }

  /// Loads the files again and, when they are valid, makes them the current
  /// context; on failure the previous context stays.
  public func reload() throws(TLSError) {
    let stamps = Self.stamps(options)
    let context = try TLSContext(server: options, application: application)
    state.withLock { $0 = State(context: context, stamps: stamps) }
  }

  /// Reloads when a file changed since the last load; returns whether it
  /// did. A failed reload is thrown once, and retried when the files change again.
  public func reloadIfChanged() throws(TLSError) -> Bool {
    let stamps = Self.stamps(options)
    let changed = state.withLock { state -> Bool in
      guard state.stamps != stamps else { return false }
      state.stamps = stamps
      return true
    }
    guard changed else { return false }
    try reload()
    return true
  }

  /// What identifies a file's version: device, inode, size, modification time.
  private struct FileStamp: Equatable {
    var device: UInt64 = 0
    var inode: UInt64 = 0
    var size: Int64 = -1
    var modifiedSeconds: Int = 0
    var modifiedNanos: Int = 0
  }

  private static func stamps(_ options: TLSServerOptions) -> [FileStamp] {
    [options.certificateFile, options.keyFile, options.clientCAFile].map { path in
      var info = stat()
      guard let path, stat(path, &info) == 0 else { return FileStamp() }
      return FileStamp(
        device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
        modifiedSeconds: info.st_mtim.tv_sec, modifiedNanos: info.st_mtim.tv_nsec)
    }
  }
}
