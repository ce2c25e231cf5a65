/// A block of IP addresses in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`,
/// or one address, `127.0.0.1`), as the settings that trust a load balancer
/// name it.
public struct AddressRange: Hashable, Sendable, CustomStringConvertible {
  /// The network's bytes (4 or 16), host bits cleared.
  let network: [UInt8]
  /// Leading bits that must match.
  let prefixLength: Int

  /// Parses `text`; nil when it is not an address with an optional `/prefix` in range.
  public init?(_ text: String) {
    let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
    guard let bytes = PeerAddress.bytes(of: String(parts[0])) else { return nil }
    let bits = bytes.count * 8
    if parts.count == 2 {
      guard let length = Int(parts[1]), (0...bits).contains(length), parts[1].allSatisfy(\.isASCII) else { return nil }
      prefixLength = length
    } else {
      prefixLength = bits
    }
    network = Self.masked(bytes, prefixLength)
  }

  /// Parses a comma-separated list; nil when any entry is not a range.
  public static func list(_ text: String) -> [AddressRange]? {
    var ranges: [AddressRange] = []
    for entry in text.split(separator: ",") {
      guard let range = AddressRange(entry.trimmingCharacters(in: " ")) else { return nil }
      ranges.append(range)
    }
    return ranges
  }

  /// Whether the numeric address `host` (as `PeerAddress.host` gives it) is in the block.
  public func contains(_ host: String) -> Bool {
    guard let bytes = PeerAddress.bytes(of: host) else { return false }
    if bytes.count == network.count { return Self.masked(bytes, prefixLength) == network }
    // An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d.
    if network.count == 4, bytes.count == 16, bytes[..<12].elementsEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]) {
      return Self.masked(Array(bytes[12...]), prefixLength) == network
    }
    return false
  }

  public var description: String { (PeerAddress.text(of: network) ?? "?") + "/\(prefixLength)" }

  private static func masked(_ bytes: [UInt8], _ length: Int) -> [UInt8] {
    bytes.enumerated().map { index, byte in
      let keep = max(0, min(8, length - index * 8))
      return keep == 8 ? byte : byte & ~(0xFF >> keep)
    }
  }
}

extension Substring {
  fileprivate func trimmingCharacters(in set: Character) -> String {
    String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
  }
}
