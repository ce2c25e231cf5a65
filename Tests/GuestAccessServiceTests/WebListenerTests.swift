import Foundation
import GuestAccessClient
import GuestAccessTestSupport
import GuestAccessWeb
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The web listener over real sockets: HTTP/1.1 keep-alive and limits, the
/// pages' security headers and CSRF rule, the redemption limits shared with
/// the RPC, and /metrics answering while another client trickles bytes.
@Suite("Web listener")
struct WebListenerTests {
  @Test func keepAliveHealthAndLimits() async throws {
    try await withTestServer { server in
      let web = try startWeb(server) { $0.maxHeaderBytes = 2048 }
      defer { web.stop() }
      let connection = try RawHTTPConnection(port: web.port)
      // Two pipelined requests and a third: answered in order on one connection.
      connection.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /readyz HTTP/1.1\r\nHost: a\r\n\r\n")
      let health = try #require(await connection.read())
      #expect(health.status == 200 && health.body == "ok\n" && health.header("Connection") == "keep-alive")
      let ready = try #require(await connection.read())
      #expect(ready.status == 200 && ready.body == "ready\n")
      connection.send("GET /static/guestaccess.css HTTP/1.1\r\nHost: a\r\n\r\n")
      let css = try #require(await connection.read())
      #expect(css.status == 200 && css.header("Content-Type")?.hasPrefix("text/css") == true)
      connection.send("POST /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")
      #expect(await connection.read()?.status == 405)

      let large = try RawHTTPConnection(port: web.port)
      large.send("GET /healthz HTTP/1.1\r\nHost: a\r\nX-Filler: \(String(repeating: "x", count: 4096))\r\n\r\n")
      #expect(await large.read()?.status == 431)
      #expect(await large.isClosedByServer())

      let malformed = try RawHTTPConnection(port: web.port)
      malformed.send("GET /healthz HTTP/1.1\r\nHost a\r\n\r\n")
      #expect(await malformed.read()?.status == 400)

      let body = try RawHTTPConnection(port: web.port)
      body.send("POST /redeem/consent HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n")
      #expect(await body.read()?.status == 413)
    }
  }

  @Test func peerBoundAndRequestTimeout() async throws {
    try await withTestServer { server in
      let web = try startWeb(server) {
        $0.maxConnectionsPerPeer = 3
        $0.requestTimeout = .milliseconds(300).scaled
      }
      defer { web.stop() }
      let open = try (0..<3).map { _ in try RawHTTPConnection(port: web.port) }
      for connection in open { connection.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n") }
      for connection in open { #expect(await connection.read()?.status == 200) }
      let fourth = try RawHTTPConnection(port: web.port)
      #expect(await fourth.isClosedByServer(), "a fourth connection from the same address is refused")
      // A request that never completes is answered 408 and closed.
      let slow = open[0]
      slow.send("GET /healthz HTTP/1.1\r\nHost")
      #expect(await slow.read()?.status == 408)
      #expect(await slow.isClosedByServer())
    }
  }

  @Test func metricsAnswerWhileAClientTricklesBytes() async throws {
    let web = try startWeb(nil, configure: { $0.requestTimeout = .seconds(60) }) { Array("metric_total 1\n".utf8) }
    defer { web.stop() }
    let trickler = try RawHTTPConnection(port: web.port)
    let request = "GET /metrics HTTP/1.1\r\nHost: a\r\n"
    for (index, character) in request.enumerated() {
      trickler.send(String(character))
      if index % 8 == 0 {
        let scrape = try RawHTTPConnection(port: web.port, timeout: 1)
        scrape.send("GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        let response = try #require(await scrape.read())
        #expect(response.status == 200 && response.body == "metric_total 1\n")
        #expect(response.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
      }
      try await Task.sleep(for: .milliseconds(5))
    }
    trickler.send("\r\n")
    #expect(await trickler.read()?.status == 200)
  }

  @Test func pagesCarrySecurityHeadersAndRefuseForgedForms() async throws {
    try await withTestServer { server in
      let web = try startWeb(server)
      defer { web.stop() }
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.example")
      let created = try await contoso.adminClient.invitations.createInvitation(CreateInvitationRequest(
        invitedEmail: "eve@fabrikam.example", messageInfo: InvitationMessageInfo(customizedMessageBody: "<script>alert(1)</script>")))
      let ticket = created.invitation.ticket
      let connection = try RawHTTPConnection(port: web.port)
      connection.send("GET /redeem?ticket=\(ticket) HTTP/1.1\r\nHost: a\r\n\r\n")
      let page = try #require(await connection.read())
      #expect(page.status == 200)
      let csp = try #require(page.header("Content-Security-Policy"))
      #expect(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'") && !csp.contains("script-src"))
      #expect(page.header("Referrer-Policy") == "no-referrer")
      #expect(page.header("X-Frame-Options") == "DENY")
      #expect(page.header("Cache-Control") == "no-store")
      let cookie = try #require(page.header("Set-Cookie"))
      #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/redeem") && cookie.contains("Max-Age="))
      #expect(cookie.contains("; Secure"), "Secure: the public base URL is https")
      #expect(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !page.body.contains("<script"))
      #expect(!page.body.contains(ticket), "the ticket is not echoed in the page")
      #expect(page.body.contains("e***@fabrikam.example") && !page.body.contains("eve@fabrikam.example"))
      let session = try #require(page.sessionCookie)

      connection.send("GET /redeem/consent HTTP/1.1\r\nHost: a\r\nCookie: \(session)\r\n\r\n")
      let consent = try #require(await connection.read())
      let csrf = try #require(consent.csrf)
      // A forged token, a missing one, and the right token without the cookie: refused, nothing sent.
      for (form, cookieHeader) in [("csrf=forged&decision=accept", "Cookie: \(session)\r\n"), ("decision=accept", "Cookie: \(session)\r\n"),
                                   ("csrf=\(csrf)&decision=accept", "")] {
        connection.send("POST /redeem/consent HTTP/1.1\r\nHost: a\r\n\(cookieHeader)Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\n\r\n\(form)")
        let refused = try #require(await connection.read())
        #expect(refused.status == 403 && refused.body.contains("This page expired"))
      }
      let outbox = try await server.app.store.read { try $0.latestOutboxMessage(invitationID: created.invitation.id, kind: .passcode) }
      #expect(outbox == nil, "no passcode was sent for a forged form")
      // The real token works.
      let form = "csrf=\(FormEncoding.percentEncode(csrf))&decision=accept"
      connection.send("POST /redeem/consent HTTP/1.1\r\nHost: a\r\nCookie: \(session)\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\n\r\n\(form)")
      let accepted = try #require(await connection.read())
      #expect(accepted.status == 303 && accepted.header("Location") == "/redeem/passcode")
    }
  }

  @Test func unknownTicketsCountTowardTheRedemptionLimit() async throws {
    try await withTestServer { server in
      let web = try startWeb(server)
      defer { web.stop() }
      let connection = try RawHTTPConnection(port: web.port)
      var statuses: [Int] = []
      for index in 0..<21 {
        connection.send("GET /redeem?ticket=unknown-\(index) HTTP/1.1\r\nHost: a\r\nAccept-Language: de-CH, en;q=0.5\r\n\r\n")
        let response = try #require(await connection.read())
        statuses.append(response.status)
        if index == 0 { #expect(response.body.contains("Dieser Link funktioniert nicht")) }
      }
      #expect(statuses.prefix(20).allSatisfy { $0 == 404 })
      #expect(statuses.last == 429)
      // The same limit as the RPC: this source is now refused there too.
      await expectError(.resourceExhausted) {
        _ = try await server.client(nil).invitations.redeemInvitation(RedeemInvitationRequest(ticket: "whatever"))
      }
    }
  }
}
