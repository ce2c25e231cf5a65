import CGuestAccessPosix
import GuestAccessTLS
import GuestAccessTransport
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// One accepted HTTP connection on its event loop: reads into the parser,
/// answers requests one at a time in arrival order, writes each response with
/// one `send` (the rest, if the socket is full, when it is writable again).
/// Loop thread only, but for the hand-back of responses computed in tasks.
/// With TLS, the handshake runs first (bounded by the handshake timeout) and
/// the session does every read and write, on this loop only.
final class HTTPConnection: EventLoopSocketHandler, @unchecked Sendable {
  let fd: Int32
  let peer: String
  let address: String
  let loop: EventLoop
  private let server: HTTPServer
  private let parser: HTTPRequestParser
  private let handler: any HTTPHandler
  private var pending: [HTTPRequest] = []
  private var busy = false
  private var output: [UInt8] = []
  private var outputOffset = 0
  private var closeWhenFlushed = false
  private var closed = false
  private var answered = 0
  private var timer: EventLoopTimer?
  private var buffer = [UInt8](repeating: 0, count: 16 * 1024)
  private let tls: TLSSession?
  private var registration: EventLoopRegistration?

  init(fd: Int32, peer: String, address: String, loop: EventLoop, server: HTTPServer, tls: TLSSession? = nil) {
    self.tls = tls
    self.fd = fd
    self.peer = peer
    self.address = address
    self.loop = loop
    self.server = server
    handler = server.handler
    parser = HTTPRequestParser(
      maxHeaderBytes: server.configuration.maxHeaderBytes, maxBodyBytes: server.configuration.maxBodyBytes)
  }

  func start() {
    server.track(self)
    registration = loop.registerSocket(fd: fd, events: ga_epollin | ga_epollrdhup, handler: self)
    guard registration != nil else {
      close()
      return
    }
    if tls != nil {
      timer = loop.scheduleTimer(after: server.configuration.handshakeTimeout) { [weak self] in self?.close() }
      continueHandshake()
    } else {
      armIdleTimer()
    }
  }

  func handleEvents(_ events: UInt32) {
    loop.assertInEventLoop()
    if events & (ga_epollerr | ga_epollhup) != 0 {
      close()
      return
    }
    if let tls, !tls.isEstablished {
      continueHandshake()
      return
    }
    if events & ga_epollout != 0 { flush() }
    if events & (ga_epollin | ga_epollrdhup) != 0, !closed { readAvailable() }
  }

  /// Advances the TLS handshake; once done, serves like a plaintext connection.
  private func continueHandshake() {
    guard let tls, !closed else { return }
    switch tls.handshake() {
    case .done:
      armIdleTimer()
      watch(ga_epollin | ga_epollrdhup)
      readAvailable()
    case .wantRead:
      watch(ga_epollin | ga_epollrdhup)
    case .wantWrite:
      watch(ga_epollin | ga_epollrdhup | ga_epollout)
    case .closed, .failed:
      // A plaintext request, garbage or a refused certificate: this connection only.
      close()
    }
  }

  /// Reads into `buffer`: a byte count, 0 at the end of the stream, -1 with
  /// `errno`-style `error` (EAGAIN: nothing now).
  private func receive(_ error: inout Int32) -> Int {
    guard let tls else {
      let count = buffer.withUnsafeMutableBytes { ga_recv(fd, $0.baseAddress, $0.count) }
      if count < 0 { error = ga_errno() }
      return count
    }
    switch buffer.withUnsafeMutableBytes({ tls.read(into: $0) }) {
    case .done(let count): return count
    case .wantRead, .wantWrite:
      error = EAGAIN
      return -1
    case .closed: return 0
    case .failed:
      error = EIO
      return -1
    }
  }

  /// Sends up to `count` bytes: how many went, or -1 with `error` (EAGAIN: the socket is full).
  private func transmit(_ bytes: UnsafeRawPointer, _ count: Int, _ error: inout Int32) -> Int {
    guard let tls else {
      let sent = ga_send(fd, bytes, count)
      if sent < 0 { error = ga_errno() }
      return sent
    }
    switch tls.write(bytes, count: count) {
    case .done(let sent): return sent
    case .wantRead, .wantWrite:
      error = EAGAIN
      return -1
    case .closed, .failed:
      error = EPIPE
      return -1
    }
  }

  private func readAvailable() {
    while !closed && !closeWhenFlushed {
      var error: Int32 = 0
      let count = receive(&error)
      if count == 0 {
        // The peer finished sending: answer what was asked, then close.
        if busy || !pending.isEmpty {
          closeWhenFlushed = true
          watch(0)
        } else {
          close()
        }
        return
      }
      if count < 0 {
        if error == EAGAIN || error == EWOULDBLOCK || error == EINTR { return }
        close()
        return
      }
      let wasInMessage = parser.inMessage
      let parsed = buffer.withUnsafeBytes { raw -> Result<[HTTPRequest], HTTPParseFailure> in
        do throws(HTTPParseFailure) {
          return .success(try parser.feed(UnsafeRawBufferPointer(rebasing: raw[0..<count])))
        } catch {
          return .failure(error)
        }
      }
      switch parsed {
      case .success(let requests):
        for var request in requests {
          request.peer = peer
          pending.append(request)
        }
      case .failure(let failure):
        fail(failure)
        return
      }
      if pending.count > server.configuration.maxPipelined {
        fail(.malformed("too many pipelined requests"))
        return
      }
      if parser.inMessage && !wasInMessage { armRequestTimer() }
      if !busy { answerNext() }
    }
  }

  /// Answers the oldest pending request, if no answer is being written.
  private func answerNext() {
    guard !busy, !closed, !pending.isEmpty else {
      if !busy && pending.isEmpty && !parser.inMessage && !closeWhenFlushed { armIdleTimer() }
      return
    }
    let request = pending.removeFirst()
    busy = true
    if let response = handler.respondImmediately(to: request) {
      send(response, for: request)
      return
    }
    timer?.cancel()
    timer = nil
    let handler = self.handler
    Task(executorPreference: loop) { [self] in
      let response = await handler.respond(to: request)
      loop.executeOnLoop { self.send(response, for: request) }
    }
  }

  private func send(_ response: HTTPResponse, for request: HTTPRequest) {
    guard !closed else { return }
    answered += 1
    let keepAlive = request.keepAlive && answered < server.configuration.maxRequestsPerConnection && !server.isStopped
    output += response.serialized(keepAlive: keepAlive, headOnly: request.method == "HEAD")
    if !keepAlive { closeWhenFlushed = true }
    busy = false
    flush()
    if !closed && output.isEmpty { answerNext() }
  }

  private func flush() {
    while outputOffset < output.count {
      var error: Int32 = 0
      let count = output.withUnsafeBytes { bytes in
        transmit(bytes.baseAddress! + outputOffset, bytes.count - outputOffset, &error)
      }
      if count < 0 {
        if error == EAGAIN || error == EWOULDBLOCK {
          watch(closeWhenFlushed ? ga_epollout : ga_epollin | ga_epollrdhup | ga_epollout)
          return
        }
        if error == EINTR { continue }
        close()
        return
      }
      outputOffset += count
    }
    output.removeAll(keepingCapacity: true)
    outputOffset = 0
    if closeWhenFlushed && !busy && pending.isEmpty {
      close()
      return
    }
    watch(closeWhenFlushed ? 0 : ga_epollin | ga_epollrdhup)
    if !busy { answerNext() }
  }

  /// Answers a refused request stream with its status and closes.
  private func fail(_ failure: HTTPParseFailure) {
    let response: HTTPResponse = switch failure {
    case .headersTooLarge: .text(431, "request header fields too large\n")
    case .bodyTooLarge: .text(413, "request body too large\n")
    case .malformed: .text(400, "malformed request\n")
    }
    pending.removeAll()
    guard !busy else {
      closeWhenFlushed = true
      watch(0)
      return
    }
    closeWhenFlushed = true
    output += response.serialized(keepAlive: false)
    flush()
  }

  private func armIdleTimer() {
    timer?.cancel()
    timer = loop.scheduleTimer(after: server.configuration.idleTimeout) { [weak self] in self?.close() }
  }

  private func armRequestTimer() {
    timer?.cancel()
    timer = loop.scheduleTimer(after: server.configuration.requestTimeout) { [weak self] in
      guard let self, !self.closed, !self.busy else { return }
      self.pending.removeAll()
      self.closeWhenFlushed = true
      self.output += HTTPResponse.text(408, "request timeout\n").serialized(keepAlive: false)
      self.flush()
    }
  }

  /// Sets the socket's epoll interest.
  private func watch(_ events: UInt32) {
    if let registration { loop.modifySocket(registration, events: events) }
  }

  /// Closes the socket and forgets the connection.
  func close() {
    loop.assertInEventLoop()
    guard !closed else { return }
    closed = true
    timer?.cancel()
    timer = nil
    tls?.shutdown()
    if let registration { loop.deregisterSocket(registration) }
    registration = nil
    Glibc.close(fd)
    server.release(self)
  }
}
