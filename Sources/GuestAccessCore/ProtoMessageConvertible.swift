@_exported import GuestAccessProto

/// The messages the RPC core can carry: every generated `ProtoMessage`.
public typealias ProtoMessageConvertible = ProtoMessage
