import ArgumentParser
import GuestAccessClient

#if canImport(Glibc)
import Glibc
#endif

/// Options shared by the TLS benchmark modes: the server, and TLS (on when a CA is given).
struct LoadTarget: ParsableArguments {
  @Option var server: String = "127.0.0.1:7700"
  @Option(name: .customLong("cacert"), help: "Connect over TLS, trusting this CA (plaintext without it).") var caFile: String?

  var hostPort: (host: String, port: Int) {
    get throws {
      guard let colon = server.lastIndex(of: ":"), let port = Int(server[server.index(after: colon)...]) else {
        throw ValidationError("--server must be HOST:PORT")
      }
      return (String(server[..<colon]), port)
    }
  }

  /// What a transport needs, as plain values (for concurrent workers).
  var endpoint: Endpoint {
    get throws {
      let (host, port) = try hostPort
      return Endpoint(host: host, port: port, tls: caFile.map { TLSConfiguration(caFile: $0) })
    }
  }

  func transport(connections: Int = 1) throws -> TCPClientTransport {
    try endpoint.transport(connections: connections)
  }
}

/// A server address and the TLS settings to reach it with.
struct Endpoint: Sendable {
  let host: String
  let port: Int
  let tls: TLSConfiguration?

  func transport(connections: Int = 1) -> TCPClientTransport {
    TCPClientTransport(host: host, port: port, connections: connections, tls: tls)
  }
}

/// Health.Check load over plaintext or TLS with the same client, for
/// Scripts/bench-rpc's TLS rows; prints one JSON line (rps, p50_us, p99_us).
struct RPCLoad: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "rpc-load", abstract: "Health.Check load (plaintext or TLS); prints JSON.")

  @OptionGroup var target: LoadTarget
  @Option(name: .shortAndLong) var concurrency: Int = 1
  @Option var connections: Int = 1
  @Option(help: "Seconds of measurement.") var duration: Double = 5
  @Option(help: "Calls before measuring.") var warmup: Int = 2000

  mutating func run() async throws {
    let transport = try target.transport(connections: connections)
    let client = GuestAccessClient(transport: transport, retryPolicy: .none)
    defer { client.close() }
    try await transport.connect()
    for _ in 0..<warmup { _ = try await client.health.check(HealthCheckRequest()) }
    let end = ContinuousClock.now + .milliseconds(Int64(duration * 1000))
    let workers = concurrency
    let samples = try await withThrowingTaskGroup(of: [Int64].self) { group in
      for _ in 0..<workers {
        group.addTask {
          var latencies: [Int64] = []
          latencies.reserveCapacity(100_000)
          while ContinuousClock.now < end {
            let started = ContinuousClock.now
            _ = try await client.health.check(HealthCheckRequest())
            let elapsed = started.duration(to: .now)
            latencies.append(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
          }
          return latencies
        }
      }
      var all: [Int64] = []
      for try await part in group { all += part }
      return all.sorted()
    }
    let percentile = { (p: Double) -> Double in
      samples.isEmpty ? 0 : Double(samples[min(samples.count - 1, Int(Double(samples.count) * p))]) / 1000
    }
    let rps = Double(samples.count) / duration
    print("{\"tls\":\(target.caFile != nil),\"concurrency\":\(concurrency),\"connections\":\(connections),\"calls\":\(samples.count),\"rps\":\(Int(rps)),\"p50_us\":\(percentile(0.5)),\"p99_us\":\(percentile(0.99))}")
  }
}

/// Full TLS handshakes per second: connect (TLS handshake included), one
/// Health.Check, close, on `concurrency` workers.
struct Handshakes: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "handshakes", abstract: "Connections (with TLS handshakes) per second; prints JSON.")

  @OptionGroup var target: LoadTarget
  @Option(name: .shortAndLong) var concurrency: Int = 4
  @Option(help: "Seconds of measurement.") var duration: Double = 5

  mutating func run() async throws {
    let end = ContinuousClock.now + .milliseconds(Int64(duration * 1000))
    let endpoint = try target.endpoint
    let workers = concurrency
    let count = try await withThrowingTaskGroup(of: Int.self) { group in
      for _ in 0..<workers {
        group.addTask {
          var done = 0
          while ContinuousClock.now < end {
            let transport = endpoint.transport()
            let client = GuestAccessClient(transport: transport, retryPolicy: .none)
            _ = try await client.health.check(HealthCheckRequest())
            client.close()
            done += 1
          }
          return done
        }
      }
      return try await group.reduce(0, +)
    }
    print("{\"tls\":\(target.caFile != nil),\"concurrency\":\(concurrency),\"connections\":\(count),\"per_second\":\(Int(Double(count) / duration))}")
  }
}

/// Opens N idle connections (TLS handshake and one call each), prints
/// "ready", and holds them until standard input closes (for RSS per idle connection).
struct HoldConnections: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "hold", abstract: "Hold N idle connections until stdin closes.")

  @OptionGroup var target: LoadTarget
  @Option var count: Int = 1000

  mutating func run() async throws {
    var clients: [GuestAccessClient] = []
    for _ in 0..<count {
      let client = GuestAccessClient(transport: try target.transport(), retryPolicy: .none)
      _ = try await client.health.check(HealthCheckRequest())
      clients.append(client)
    }
    print("ready")
    fflush(nil)
    var byte: UInt8 = 0
    while read(0, &byte, 1) > 0 {}
    for client in clients { client.close() }
  }
}
