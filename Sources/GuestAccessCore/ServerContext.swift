import Synchronization

/// A key for a typed value stored in a `ServerContext` by an interceptor
/// (for example the authenticated principal).
public protocol ServerContextKey {
  /// The stored value's type.
  associatedtype Value: Sendable
}

/// What a handler knows about the call it serves.
public struct ServerContext: Sendable {
  /// The method being called.
  public let method: MethodDescriptor
  /// The request metadata.
  public var metadata: Metadata
  /// When the call must be finished by, if the caller set a deadline.
  public let deadline: ContinuousClock.Instant?
  /// The caller's address, e.g. `127.0.0.1:51234` or `in-process`.
  public let peer: String
  /// The client certificate the caller presented over mutual TLS (verified
  /// against the server's client CAs), if any.
  public let peerCertificate: PeerCertificate?
  /// The call's number: no other context made in this process has the same
  /// one (the initializer's default, `nextSerial()`, counts from one
  /// process-wide counter). Servers derive per-call identifiers from it, such
  /// as a request id.
  public let serial: UInt64
  /// Values by key type: a handful per call at most, so a list searched
  /// in order costs less than hashing into a dictionary.
  @usableFromInline var values: [(key: ObjectIdentifier, value: any Sendable)] = []
  /// Told when the call authenticates: the call's responder (no closure
  /// to allocate per call), or nil outside a transport.
  private let responder: (any ServerCallResponder)?

  /// Creates a context; `responder`, the call's, is told when the call
  /// passes authentication (see `markConnectionAuthenticated`).
  public init(
    method: MethodDescriptor, metadata: Metadata, deadline: ContinuousClock.Instant?, peer: String,
    peerCertificate: PeerCertificate? = nil, serial: UInt64 = ServerContext.nextSerial(),
    responder: (any ServerCallResponder)? = nil
  ) {
    self.peerCertificate = peerCertificate
    self.serial = serial
    self.method = method
    self.metadata = metadata
    self.deadline = deadline
    self.peer = peer
    self.responder = responder
  }

  /// A serial no call of this process had (a relaxed atomic increment).
  public static func nextSerial() -> UInt64 {
    serials.add(1, ordering: .relaxed).newValue
  }

  private static let serials = Atomic<UInt64>(0)

  /// Tells the transport that this call's caller proved who it is (called
  /// by an authentication interceptor): its connection leaves the tighter
  /// limits applied before authentication (docs/PROTOCOL.md §11).
  public func markConnectionAuthenticated() {
    responder?.connectionAuthenticated()
  }

  /// A value stored by an interceptor (inlinable: specialised per key type,
  /// it costs no generic metadata look-up on the per-call path).
  @inlinable
  public subscript<Key: ServerContextKey>(key: Key.Type) -> Key.Value? {
    get {
      let id = ObjectIdentifier(key)
      for entry in values where entry.key == id { return entry.value as? Key.Value }
      return nil
    }
    set {
      let id = ObjectIdentifier(key)
      let index = values.firstIndex { $0.key == id }
      switch (index, newValue) {
      case (let index?, let value?): values[index].value = value
      case (let index?, nil): values.remove(at: index)
      case (nil, let value?): values.append((id, value))
      case (nil, nil): break
      }
    }
  }
}
