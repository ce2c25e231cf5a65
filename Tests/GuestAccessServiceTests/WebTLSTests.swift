import Foundation
import GuestAccessClient
import GuestAccessTestSupport
import GuestAccessTLS
import GuestAccessTransport
import GuestAccessWeb
import Logging
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The HTTP listeners (web pages, /metrics, /healthz) with the RPC port's TLS
/// settings: a browser-like client (Python's ssl, ALPN h2 and http/1.1) gets
/// pages and metrics over TLS with keep-alive; mutual TLS on the metrics
/// listener refuses a scraper without a client certificate; plaintext,
/// garbage and stalled handshakes cost only their own connection, and
/// /metrics answers throughout, also while a TLS client trickles a request.
@Suite(.serialized) struct WebTLSTests {
  /// A TLS HTTP listener answering /healthz and /metrics (`clientCA`: client certificates required).
  private func startTLSWeb(
    _ certificates: TestCertificates, clientCA: String? = nil, configure: (inout HTTPServerConfiguration) -> Void = { _ in }
  ) throws -> HTTPServer {
    var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
    configure(&configuration)
    let web = try HTTPServer(
      configuration: configuration, group: EventLoopGroup(count: 1, busyPoll: .zero), logger: Logger(label: "web-tls-test"),
      tls: TLSServerOptions(certificateFile: certificates.serverCertificate, keyFile: certificates.serverKey, clientCAFile: clientCA))
    web.start(handler: WebApp(health: nil, metrics: { Array("metric_total 1\n".utf8) }))
    return web
  }

  /// Python's ssl module: GETs `paths` on one kept-alive TLS connection; prints the version, ALPN and each status line and body.
  private static let fetchScript = """
    import socket, ssl, sys
    port, ca, paths = int(sys.argv[1]), sys.argv[2], sys.argv[3].split(",")
    context = ssl.create_default_context(cafile=ca)
    context.set_alpn_protocols(["h2", "http/1.1"])
    if len(sys.argv) > 5:
        context.load_cert_chain(sys.argv[4], sys.argv[5])
    with socket.create_connection(("127.0.0.1", port)) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            print("tls", tls.version(), tls.selected_alpn_protocol())
            stream = tls.makefile("rb")
            for path in paths:
                tls.sendall(("GET %s HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n" % path).encode())
                status = stream.readline().decode().strip()
                length = 0
                while True:
                    line = stream.readline().decode().strip()
                    if not line:
                        break
                    name, _, value = line.partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                print(status, repr(stream.read(length).decode()))
    """

  private func fetch(_ port: Int, _ certificates: TestCertificates, _ paths: [String], client: (String, String)? = nil) async throws -> Subprocess.Output {
    var arguments = ["python3", "-c", Self.fetchScript, "\(port)", certificates.caFile, paths.joined(separator: ",")]
    if let client { arguments += [client.0, client.1] }
    return try await Subprocess.run("/usr/bin/env", arguments, timeout: .seconds(30))
  }

  @Test func pagesAndMetricsOverTLSWithKeepAlive() async throws {
    let certificates = try await TestCertificates.make()
    defer { certificates.remove() }
    let web = try startTLSWeb(certificates)
    defer { web.stop() }
    #expect(web.url.hasPrefix("https://127.0.0.1:"))
    let result = try await fetch(web.port, certificates, ["/healthz", "/metrics", "/healthz"])
    #expect(result.status == 0, "\(result.stdoutText)\(result.stderrText)")
    #expect(result.stdoutText.contains("tls TLSv1.3 http/1.1"), "\(result.stdoutText)")
    #expect(result.stdoutText.contains("HTTP/1.1 200 OK 'ok\\n'"), "\(result.stdoutText)")
    #expect(result.stdoutText.contains("HTTP/1.1 200 OK 'metric_total 1\\n'"), "\(result.stdoutText)")
    #expect(result.stdoutText.components(separatedBy: "HTTP/1.1 200").count == 4, "three answers on one connection: \(result.stdoutText)")
    // openssl s_client with the wrong CA: the client refuses the certificate.
    let other = try await TestCertificates.make()
    defer { other.remove() }
    let wrongCA = try await fetch(web.port, other, ["/healthz"])
    #expect(wrongCA.status != 0 && wrongCA.stderrText.contains("CERTIFICATE_VERIFY_FAILED"), "\(wrongCA.stderrText)")
  }

  @Test func mutualTLSOnTheMetricsListenerRefusesAScraperWithoutACertificate() async throws {
    let certificates = try await TestCertificates.make()
    defer { certificates.remove() }
    let scraper = try await certificates.makeClient("scraper")
    let web = try startTLSWeb(certificates, clientCA: certificates.caFile)
    defer { web.stop() }
    let refused = try await fetch(web.port, certificates, ["/metrics"])
    #expect(refused.status != 0, "\(refused.stdoutText)")
    let served = try await fetch(web.port, certificates, ["/metrics"], client: (scraper.certificate, scraper.key))
    #expect(served.status == 0 && served.stdoutText.contains("'metric_total 1\\n'"), "\(served.stdoutText)\(served.stderrText)")
  }

  @Test func hostileClientsCostOnlyTheirOwnConnection() async throws {
    let certificates = try await TestCertificates.make()
    defer { certificates.remove() }
    let web = try startTLSWeb(certificates) {
      $0.handshakeTimeout = .milliseconds(500).scaled
      $0.requestTimeout = .seconds(60)
    }
    defer { web.stop() }
    let started = ContinuousClock.now
    // Plaintext HTTP on the TLS port: no HTTP answer, closed.
    let plaintext = try RawHTTPConnection(port: web.port)
    plaintext.send("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
    #expect(await plaintext.isClosedByServer())
    // Garbage: closed at once.
    let garbage = try RawHTTPConnection(port: web.port)
    garbage.send(String(repeating: "\u{16}\u{03}\u{01}garbage", count: 40))
    #expect(await garbage.isClosedByServer())
    // Silent and half a ClientHello: closed by the handshake timeout.
    let silent = try RawHTTPConnection(port: web.port)
    let half = try RawHTTPConnection(port: web.port)
    half.send("\u{16}\u{03}\u{01}\u{02}")
    #expect(await silent.isClosedByServer())
    #expect(await half.isClosedByServer())
    #expect(started.duration(to: .now) < .seconds(10).scaled)
    // A TLS client that trickles its request one byte at a time while a scraper keeps getting /metrics.
    let trickle = """
      import socket, ssl, sys, time
      context = ssl.create_default_context(cafile=sys.argv[2])
      with socket.create_connection(("127.0.0.1", int(sys.argv[1]))) as raw:
          with context.wrap_socket(raw, server_hostname="localhost") as tls:
              print("connected", flush=True)
              for byte in b"GET /metrics HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n":
                  tls.sendall(bytes([byte]))
                  time.sleep(0.02)
              print(tls.recv(4096).decode().split("\\r\\n")[0], flush=True)
      """
    let trickler = Task { try await Subprocess.run("/usr/bin/env", ["python3", "-c", trickle, "\(web.port)", certificates.caFile], timeout: .seconds(60)) }
    for _ in 0..<5 {
      let scrape = try await fetch(web.port, certificates, ["/metrics"])
      #expect(scrape.status == 0 && scrape.stdoutText.contains("'metric_total 1\\n'"), "\(scrape.stdoutText)\(scrape.stderrText)")
    }
    let trickled = try await trickler.value
    #expect(trickled.stdoutText.contains("HTTP/1.1 200 OK"), "\(trickled.stdoutText)\(trickled.stderrText)")
  }
}
