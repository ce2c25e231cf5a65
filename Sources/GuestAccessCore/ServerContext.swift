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
  /// Values by key type: a handful per call at most, so a list searched
  /// in order costs less than hashing into a dictionary.
  private var values: [(key: ObjectIdentifier, value: any Sendable)] = []
  private let onAuthenticated: (@Sendable () -> Void)?

  /// Creates a context; `onAuthenticated` tells the call's transport that the
  /// call passed authentication (see `markConnectionAuthenticated`).
  public init(
    method: MethodDescriptor, metadata: Metadata, deadline: ContinuousClock.Instant?, peer: String,
    peerCertificate: PeerCertificate? = nil, onAuthenticated: (@Sendable () -> Void)? = nil
  ) {
    self.peerCertificate = peerCertificate
    self.method = method
    self.metadata = metadata
    self.deadline = deadline
    self.peer = peer
    self.onAuthenticated = onAuthenticated
  }

  /// Tells the transport that this call's caller proved who it is (called
  /// by an authentication interceptor): its connection leaves the tighter
  /// limits applied before authentication (docs/PROTOCOL.md §11).
  public func markConnectionAuthenticated() {
    onAuthenticated?()
  }

  /// A value stored by an interceptor.
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
