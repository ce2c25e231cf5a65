import CoreMetrics
import Prometheus
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The admin listener: serves the Prometheus text exposition of a registry
/// at `GET /metrics` over plain HTTP/1.1, on its own thread with blocking
/// sockets (never on the Swift concurrency pool).
public final class PrometheusEndpoint: Sendable {
  /// The registry whose metrics are served.
  public let registry: PrometheusCollectorRegistry
  private let fd: Int32
  /// The bound port.
  public let port: Int
  private let running = Atomic<Bool>(true)

  /// Binds `host:port` (numeric IPv4) and starts serving.
  public init(host: String, port: Int, registry: PrometheusCollectorRegistry) throws {
    self.registry = registry
    let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard socketFD >= 0 else { throw EndpointError("cannot create a socket") }
    var one: Int32 = 1
    setsockopt(socketFD, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
      close(socketFD)
      throw EndpointError("--metrics-listen needs a numeric IPv4 address, got \(host)")
    }
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, listen(socketFD, 64) == 0 else {
      close(socketFD)
      throw EndpointError("cannot listen on \(host):\(port): \(String(cString: strerror(errno)))")
    }
    var actual = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &actual) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
    }
    fd = socketFD
    self.port = Int(UInt16(bigEndian: actual.sin_port))
    let box = Unmanaged.passRetained(self)
    var thread = pthread_t()
    pthread_create(&thread, nil, { argument in
      let endpoint = Unmanaged<PrometheusEndpoint>.fromOpaque(argument!).takeRetainedValue()
      endpoint.serve()
      return nil
    }, box.toOpaque())
    pthread_detach(thread)
  }

  /// Stops serving.
  public func stop() {
    guard running.exchange(false, ordering: .relaxed) else { return }
    shutdown(fd, Int32(SHUT_RDWR))
    close(fd)
  }

  private func serve() {
    while running.load(ordering: .relaxed) {
      let client = accept(fd, nil, nil)
      if client < 0 {
        if errno == EINTR { continue }
        return
      }
      handle(client)
    }
  }

  private func handle(_ client: Int32) {
    defer { close(client) }
    var timeout = timeval(tv_sec: 2, tv_usec: 0)
    setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var request: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while request.count < 16384 {
      let n = recv(client, &buffer, buffer.count, 0)
      if n <= 0 { break }
      request += buffer[0..<n]
      if request.count >= 4, request.suffix(4) == [13, 10, 13, 10] { break }
    }
    let line = String(decoding: request.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
    let parts = line.split(separator: " ")
    var body: [UInt8]
    let status: String
    var contentType = "text/plain; charset=utf-8"
    if parts.count >= 2, parts[0] == "GET", parts[1] == "/metrics" || parts[1].hasPrefix("/metrics?") {
      body = []
      registry.emit(into: &body)
      status = "200 OK"
      contentType = "text/plain; version=0.0.4; charset=utf-8"
    } else if parts.count >= 2, parts[0] == "GET" {
      body = Array("not found: GET /metrics\n".utf8)
      status = "404 Not Found"
    } else {
      body = Array("method not allowed\n".utf8)
      status = "405 Method Not Allowed"
    }
    let head = "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
    let bytes = Array(head.utf8) + body
    var sent = 0
    while sent < bytes.count {
      let n = bytes[sent...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      if n <= 0 { return }
      sent += n
    }
  }
}

/// A failure to start the admin listener.
public struct EndpointError: Error, CustomStringConvertible {
  /// What went wrong.
  public var description: String
  init(_ description: String) { self.description = description }
}
