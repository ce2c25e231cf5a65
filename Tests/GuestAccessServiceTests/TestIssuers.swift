import Foundation
import GuestAccessLocks
import GuestAccessTransport
import GuestAccessWeb
import Logging

/// OpenID providers whose keys the test owns: each issuer's discovery
/// document and JWKS served over plain HTTP on loopback by the project's own
/// HTTP listener, issuer `name` at `http://127.0.0.1:<port>/<name>`, with the
/// key set fetches counted per issuer. Tokens for them come from `TokenSigner`.
final class TestIssuers: Sendable {
  private struct State {
    var port = 0
    var keySets: [String: [UInt8]] = [:]
    var keyFetches: [String: Int] = [:]
  }

  private final class Handler: HTTPHandler {
    let state: LockedValue<State>
    init(state: LockedValue<State>) { self.state = state }

    func respondImmediately(to request: HTTPRequest) -> HTTPResponse? {
      let parts = request.path.split(separator: "/").map(String.init)
      return state.withLock { state in
        guard let name = parts.first, let keys = state.keySets[name] else { return .text(404, "no such issuer") }
        let issuer = "http://127.0.0.1:\(state.port)/\(name)"
        switch parts.dropFirst().joined(separator: "/") {
        case ".well-known/openid-configuration":
          return HTTPResponse(
            status: 200, headers: [("Content-Type", "application/json")],
            body: Array(#"{"issuer": "\#(issuer)", "jwks_uri": "\#(issuer)/keys", "id_token_signing_alg_values_supported": ["RS256"]}"#.utf8))
        case "keys":
          state.keyFetches[name, default: 0] += 1
          return HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: keys)
        default:
          return .text(404, "not found")
        }
      }
    }

    func respond(to request: HTTPRequest) async -> HTTPResponse {
      respondImmediately(to: request) ?? .text(500, "unreachable")
    }
  }

  private let state = LockedValue(State())
  private let web: HTTPServer

  /// Listens on a free loopback port.
  init() throws {
    var logger = Logger(label: "test-issuers")
    logger.logLevel = .critical
    web = try HTTPServer(
      configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0), group: EventLoopGroup(count: 1, busyPoll: .zero), logger: logger)
    state.withLock { $0.port = web.port }
    web.start(handler: Handler(state: state))
  }

  /// The issuer URL of `name` (exactly what its tokens carry in `iss`).
  func issuer(_ name: String) -> String { "http://127.0.0.1:\(web.port)/\(name)" }

  /// Publishes `signers`' keys as the JWKS of issuer `name`.
  func publish(_ name: String, _ signers: [TokenSigner]) throws {
    let document = try TokenSigner.jwks(signers)
    state.withLock { $0.keySets[name] = document }
  }

  /// How many times the JWKS of `name` was fetched.
  func keyFetches(_ name: String) -> Int { state.withLock { $0.keyFetches[name] ?? 0 } }

  func stop() { web.stop() }
}
