import Foundation
import GuestAccessClient
import GuestAccessStorage
import GuestAccessWeb
import Testing

/// The `/signin` pages over real sockets: headers, cookie, escaping, CSRF,
/// the same pages for every address, and a passcode guest landing signed in.
@Suite("Passcode sign-in pages")
struct WebSignInTests {
  @Test func signInPagesAnswerAlikeAndLandSignedIn() async throws {
    try await withTestServer { server in
      let web = try startWeb(server)
      defer { web.stop() }
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.example")
      let app = try await contoso.adminClient.tenants.createApplication(CreateApplicationRequest(displayName: "Falcon <Wiki>"))
      let sam = try await server.passcodeGuest("sam@contractor.example", in: contoso, grants: InvitationGrants(applicationIDs: [app.id]))
      let connection = try RawHTTPConnection(port: web.port)
      func post(_ path: String, _ form: String, cookie: String) async throws -> RawHTTPConnection.Response {
        connection.send("POST \(path) HTTP/1.1\r\nHost: a\r\nCookie: \(cookie)\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\n\r\n\(form)")
        return try #require(await connection.read())
      }
      func get(_ path: String, cookie: String) async throws -> RawHTTPConnection.Response {
        connection.send("GET \(path) HTTP/1.1\r\nHost: a\r\nCookie: \(cookie)\r\n\r\n")
        return try #require(await connection.read())
      }
      // The form: security headers, a Secure HttpOnly cookie limited to /signin, the tenant escaped.
      connection.send("GET /signin?tenant=%22%3E%3Cscript%3E HTTP/1.1\r\nHost: a\r\n\r\n")
      let hostile = try #require(await connection.read())
      #expect(hostile.status == 200 && !hostile.body.contains("<script>") && hostile.body.contains("&quot;&gt;&lt;script&gt;"))
      #expect(hostile.header("Content-Security-Policy")?.contains("default-src 'none'") == true)
      #expect(hostile.header("Referrer-Policy") == "no-referrer" && hostile.header("X-Frame-Options") == "DENY")
      let cookie = try #require(hostile.header("Set-Cookie"))
      #expect(cookie.hasPrefix("ga_signin=") && cookie.contains("Path=/signin") && cookie.contains("HttpOnly")
        && cookie.contains("SameSite=Lax") && cookie.contains("; Secure"))

      func start(_ email: String) async throws -> (session: String, passcodePage: RawHTTPConnection.Response) {
        let form = try await get("/signin?tenant=\(contoso.id)", cookie: "")
        let session = try #require(form.sessionCookie)
        let csrf = try #require(form.csrf)
        // A forged token: refused, nothing sent.
        let forged = try await post("/signin", "csrf=forged&tenant=\(contoso.id)&email=\(FormEncoding.percentEncode(email))", cookie: session)
        #expect(forged.status == 403 && forged.body.contains("This page expired"))
        let begun = try await post(
          "/signin", "csrf=\(FormEncoding.percentEncode(csrf))&tenant=\(contoso.id)&email=\(FormEncoding.percentEncode(email))", cookie: session)
        #expect(begun.status == 303 && begun.header("Location") == "/signin/passcode")
        return (session, try await get("/signin/passcode", cookie: session))
      }
      // An unknown address and the guest get the same page (but the masked address and the token).
      let (strangerSession, strangerPage) = try await start("nobody@contractor.example")
      let (samSession, samPage) = try await start("sam@contractor.example")
      func shape(_ page: RawHTTPConnection.Response) -> String {
        page.body.replacingOccurrences(of: page.csrf ?? "-", with: "TOKEN").replacingOccurrences(of: "n***@", with: "X***@")
          .replacingOccurrences(of: "s***@", with: "X***@").replacingOccurrences(of: "[0-9]{2}:[0-9]{2} UTC", with: "T", options: .regularExpression)
      }
      #expect(strangerPage.status == 200 && samPage.status == 200 && shape(strangerPage) == shape(samPage))
      #expect(samPage.body.contains("s***@contractor.example") && samPage.body.contains("5 attempts left"))
      let strangerWrong = try await post("/signin/passcode", "csrf=\(FormEncoding.percentEncode(strangerPage.csrf ?? ""))&passcode=12345678",
                                         cookie: strangerSession)
      #expect(strangerWrong.status == 403 && strangerWrong.body.contains("That passcode is not right. 4 attempts left."))
      // Sam's passcode lands him on the landing page, which lists his application (escaped).
      let code = try await server.queuedPasscode(invitationID: sam.guest.id, kind: .signInPasscode)
      let verified = try await post("/signin/passcode", "csrf=\(FormEncoding.percentEncode(samPage.csrf ?? ""))&passcode=\(code)", cookie: samSession)
      #expect(verified.status == 303 && verified.header("Location") == "/signin/done")
      let landing = try await get("/signin/done", cookie: samSession)
      #expect(landing.status == 200 && landing.body.contains("You are signed in") && landing.body.contains("Falcon &lt;Wiki&gt;"))
      #expect(landing.body.contains("sam@contractor.example") && !landing.body.contains("gak_"), "no key secret on the page")
      // Another browser's cookie does not open it; signing out ends it.
      #expect(try await get("/signin/done", cookie: strangerSession).status == 403)
      let out = try await post("/signin/signout", "csrf=\(FormEncoding.percentEncode(landing.csrf ?? ""))", cookie: samSession)
      #expect(out.status == 200 && out.header("Set-Cookie")?.contains("Max-Age=0") == true)
      #expect(try await get("/signin/done", cookie: samSession).status == 403)
    }
  }

  /// A passcode guest redeemed on the pages is shown where it signs in next time.
  @Test func redemptionDonePageLinksToTheSignIn() async throws {
    try await withTestServer { server in
      let web = try startWeb(server)
      defer { web.stop() }
      let contoso = try await server.makeTenant("Contoso", domain: "contoso.example")
      let created = try await contoso.adminClient.invitations.createInvitation(CreateInvitationRequest(invitedEmail: "kim@fabrikam.example"))
      let connection = try RawHTTPConnection(port: web.port)
      connection.send("GET /redeem?ticket=\(created.invitation.ticket) HTTP/1.1\r\nHost: a\r\n\r\n")
      let session = try #require(await connection.read()?.sessionCookie)
      connection.send("GET /redeem/consent HTTP/1.1\r\nHost: a\r\nCookie: \(session)\r\n\r\n")
      let csrf = FormEncoding.percentEncode(try #require(await connection.read()?.csrf))
      func post(_ path: String, _ form: String) async throws -> RawHTTPConnection.Response {
        connection.send("POST \(path) HTTP/1.1\r\nHost: a\r\nCookie: \(session)\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\n\r\n\(form)")
        return try #require(await connection.read())
      }
      #expect(try await post("/redeem/consent", "csrf=\(csrf)&decision=accept").header("Location") == "/redeem/passcode")
      let code = try await server.queuedPasscode(invitationID: created.invitation.id)
      #expect(try await post("/redeem/passcode", "csrf=\(csrf)&passcode=\(code)").header("Location") == "/redeem/done")
      connection.send("GET /redeem/done HTTP/1.1\r\nHost: a\r\nCookie: \(session)\r\n\r\n")
      let done = try #require(await connection.read())
      #expect(done.status == 200 && done.body.contains("href=\"/signin?tenant=\(contoso.id)\""), "\(done.body)")
      connection.send("GET /signin?tenant=\(contoso.id) HTTP/1.1\r\nHost: a\r\n\r\n")
      let form = try #require(await connection.read())
      #expect(form.status == 200 && form.body.contains("name=\"tenant\" value=\"\(contoso.id)\""))
    }
  }
}
