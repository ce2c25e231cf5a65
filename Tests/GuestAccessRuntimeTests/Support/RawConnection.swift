import GuestAccessCore
import GuestAccessProto
import GuestAccessTestSupport
import GuestAccessWire

#if canImport(Glibc)
import Glibc
#endif

/// Errors of a raw test connection.
enum RawError: Error, Equatable {
  case connect(Int32)
  case send(Int32)
  case receive(Int32)
  case timeout
  case badPreface
  case violation(String)
}

/// A plain blocking TCP socket for speaking (and breaking) the wire protocol
/// by hand. Every call runs on a thread of its own (`blocking`).
final class RawConnection: @unchecked Sendable {
  let fd: Int32
  private var parser = FrameParser(maxPayload: 32 << 20)
  private var prefaceBytes: [UInt8] = []
  private var queued: [Frame] = []
  private var closedByPeer = false
  private var closed = false

  /// Wraps a connected socket (for example one a `RawServer` accepted); its
  /// reads and writes give up after `timeout` (stretched by `TestTime.scale`).
  init(fd: Int32, timeout: Duration = .seconds(5)) {
    self.fd = fd
    Self.setTimeouts(fd, timeout.scaled)
  }

  private static func setTimeouts(_ fd: Int32, _ timeout: Duration) {
    let micros = timeout.components.seconds * 1_000_000 + timeout.components.attoseconds / 1_000_000_000_000
    var value = timeval(tv_sec: Int(micros / 1_000_000), tv_usec: Int(micros % 1_000_000))
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
  }

  deinit {
    if !closed { Glibc.close(fd) }
  }

  /// Connects to `127.0.0.1:port` from `source` (a loopback address such as
  /// `127.0.0.2`, to look like another client); reads time out after `timeout` (scaled).
  static func connect(port: Int, timeout: Duration = .seconds(5), from source: String? = nil) async throws -> RawConnection {
    try await blocking {
      let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      if let source {
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr(source)
        let bound = withUnsafePointer(to: &local) {
          $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
          let error = errno
          Glibc.close(fd)
          throw RawError.connect(error)
        }
      }
      var address = sockaddr_in()
      address.sin_family = sa_family_t(AF_INET)
      address.sin_port = in_port_t(UInt16(port).bigEndian)
      address.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
      let rc = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
      }
      guard rc == 0 else {
        let error = errno
        Glibc.close(fd)
        throw RawError.connect(error)
      }
      var one: Int32 = 1
      setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
      return RawConnection(fd: fd, timeout: timeout)
    }
  }

  /// Connects and sends the client preface.
  static func handshake(port: Int, timeout: Duration = .seconds(5), from source: String? = nil) async throws -> RawConnection {
    let connection = try await connect(port: port, timeout: timeout, from: source)
    try await connection.send(Preface.bytes)
    return connection
  }

  /// Sends all of `bytes`.
  func send(_ bytes: [UInt8]) async throws {
    let fd = self.fd
    try await blocking {
      var offset = 0
      while offset < bytes.count {
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
        guard sent > 0 else { throw RawError.send(errno) }
        offset += sent
      }
    }
  }

  /// Sends each of `chunks` with a write of its own, in order.
  func sendEach(_ chunks: [[UInt8]]) async throws {
    for chunk in chunks { try await send(chunk) }
  }

  /// The next frame from the server (its preface is checked first); `nil` at end of stream.
  func readFrame() async throws -> Frame? {
    try await blocking { try self.readFrameBlocking() }
  }

  /// Reads frames until the server closes the connection.
  func readUntilClosed() async throws -> [Frame] {
    try await blocking {
      var frames: [Frame] = []
      while let frame = try self.readFrameBlocking() { frames.append(frame) }
      return frames
    }
  }

  /// Reads frames until one matches `predicate`; `nil` when the connection closed first.
  func readFrame(where predicate: @escaping @Sendable (Frame) -> Bool) async throws -> Frame? {
    try await blocking {
      while let frame = try self.readFrameBlocking() {
        if predicate(frame) { return frame }
      }
      return nil
    }
  }

  private func readFrameBlocking() throws -> Frame? {
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    while queued.isEmpty {
      if closedByPeer { return nil }
      let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if received < 0 {
        if errno == EAGAIN || errno == EWOULDBLOCK { throw RawError.timeout }
        if errno == ECONNRESET {
          closedByPeer = true
          return nil
        }
        throw RawError.receive(errno)
      }
      if received == 0 {
        closedByPeer = true
        return nil
      }
      var bytes = buffer[0..<received]
      if prefaceBytes.count < Preface.size {
        let needed = Preface.size - prefaceBytes.count
        prefaceBytes.append(contentsOf: bytes.prefix(needed))
        bytes = bytes.dropFirst(needed)
        if prefaceBytes.count == Preface.size && prefaceBytes != Preface.bytes { throw RawError.badPreface }
      }
      guard !bytes.isEmpty else { continue }
      do {
        try Array(bytes).withUnsafeBytes { raw in
          try parser.parse(raw) { event throws(ProtocolViolation) in
            guard case .frame(let frame) = event else { throw ProtocolViolation("oversized frame") }
            queued.append(frame)
          }
        }
      } catch {
        throw RawError.violation("\(error)")
      }
    }
    return queued.removeFirst()
  }

  /// Waits for the server to close the connection, discarding frames; returns
  /// whether it did within the read timeout.
  func waitForClose() async -> Bool {
    (try? await readUntilClosed()) != nil
  }

  /// Closes with a reset (SO_LINGER 0): the server sees ECONNRESET. Not
  /// while another call on this connection is blocked in the socket.
  func reset() {
    guard !closed else { return }
    closed = true
    var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    Glibc.close(fd)
  }

  /// Shuts both directions down (the server reads end of stream); safe while
  /// another call is blocked in the socket, which then fails.
  func closeNow() {
    shutdown(fd, Int32(SHUT_RDWR))
  }

  /// Shrinks the send buffer (so the kernel holds little of what the server does not read).
  func setSendBuffer(_ bytes: Int32) {
    var value = bytes
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &value, socklen_t(MemoryLayout<Int32>.size))
  }

  /// Sends as much of `bytes` as the socket takes within `timeout`; returns the bytes sent.
  func sendUntilBlocked(_ bytes: [UInt8], timeout: Duration) async -> Int {
    let fd = self.fd
    return (try? await blocking { GuestAccessTestSupport.sendUntilBlocked(fd, bytes, timeout: timeout) }) ?? 0
  }

  /// Shrinks the receive buffer (before reading stops, to fill up the server's side sooner).
  func setReceiveBuffer(_ bytes: Int32) {
    var value = bytes
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, socklen_t(MemoryLayout<Int32>.size))
  }
}

/// Builders of raw frames for tests.
enum Frames {
  static func headers(_ callID: UInt32, _ method: String, metadata: [MetadataEntry] = [], timeoutMicros: UInt64 = 0) -> [UInt8] {
    var bytes: [UInt8] = []
    FrameEncoder.append(.headers, callID: callID, message: CallHeaders(method: method, metadata: metadata, timeoutMicros: timeoutMicros), to: &bytes)
    return bytes
  }

  static func message(_ callID: UInt32, _ message: some ProtoMessage, endStream: Bool = true) -> [UInt8] {
    var bytes: [UInt8] = []
    FrameEncoder.append(.message, flags: endStream ? .endStream : [], callID: callID, message: message, to: &bytes)
    return bytes
  }

  static func raw(type: UInt8, flags: UInt8 = 0, callID: UInt32, payload: [UInt8] = []) -> [UInt8] {
    var bytes: [UInt8] = []
    FrameHeader(length: UInt32(payload.count), rawType: type, flags: FrameFlags(rawValue: flags), callID: callID).encode(into: &bytes)
    return bytes + payload
  }

  /// HEADERS and MESSAGE of a unary call.
  static func call(_ callID: UInt32, _ method: MethodDescriptor, _ request: some ProtoMessage, timeoutMicros: UInt64 = 0) -> [UInt8] {
    headers(callID, method.path, timeoutMicros: timeoutMicros) + message(callID, request)
  }
}

extension Frame {
  /// The trailers of a TRAILERS frame.
  var trailers: Trailers? {
    guard header.frameType == .trailers else { return nil }
    return try? Trailers(serializedBytes: payload)
  }

  /// The payload of a GOAWAY frame.
  var goAway: GoAway? {
    guard header.frameType == .goAway else { return nil }
    return try? GoAway(serializedBytes: payload)
  }
}
