// peer-grpc: a grpc-swift 2 echo server and a load client with guest-load's
// shape (c concurrent calls over one connection, n calls after a warm-up,
// latency percentiles), printing the same JSON fields guest-load --json does.
//
//   peer-grpc server PORT
//   peer-grpc client PORT -c 64 -n 100000 [--warmup 1000]
//
// The request is empty and the response is the 2 bytes `08 01`, the sizes of a
// GuestAccess Health.Check request (service "") and its SERVING response.
// Messages are raw bytes (custom MessageSerializer/MessageDeserializer): no
// protobuf code generation, no protobuf runtime cost on either side.
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Synchronization

struct RawSerializer: MessageSerializer {
  func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
}

struct RawDeserializer: MessageDeserializer {
  func deserialize<Bytes: GRPCContiguousBytes>(_ bytes: Bytes) throws -> [UInt8] {
    bytes.withUnsafeBytes { Array($0) }
  }
}

let checkMethod = MethodDescriptor(fullyQualifiedService: "peer.Echo", method: "Check")
let serving: [UInt8] = [0x08, 0x01]

struct EchoService: RegistrableRPCService {
  func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
    router.registerHandler(
      forMethod: checkMethod, deserializer: RawDeserializer(), serializer: RawSerializer()
    ) { request, context in
      for try await _ in request.messages {}
      return StreamingServerResponse(single: ServerResponse(message: serving))
    }
  }
}

func option(_ name: String, _ fallback: Int) -> Int {
  let args = CommandLine.arguments
  if let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) { return v }
  return fallback
}

final class Latencies: Sendable {
  let store = Mutex<[[UInt64]]>([])
  let failures = Atomic<Int>(0)
  let next = Atomic<Int>(0)
  func add(_ worker: [UInt64]) { store.withLock { $0.append(worker) } }
}

nonisolated func runClient(port: Int) async throws {
  let concurrency = option("-c", 16)
  let total = option("-n", 10_000)
  let warmup = option("--warmup", 1_000)
  let transport = try HTTP2ClientTransport.Posix(
    target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
  let client = GRPCClient(transport: transport)
  let request = ClientRequest(message: [UInt8]())
  let call: @Sendable () async throws -> Void = {
    try await client.unary(
      request: request, descriptor: checkMethod, serializer: RawSerializer(), deserializer: RawDeserializer(),
      options: .defaults
    ) { response in
      let bytes = try response.message
      precondition(bytes == serving)
    }
  }
  try await withThrowingDiscardingTaskGroup { group in
    group.addTask { try await client.runConnections() }
    // Warm-up, not measured.
    try await withThrowingTaskGroup(of: Void.self) { warm in
      for w in 0..<concurrency {
        warm.addTask { for _ in 0..<max(1, warmup / concurrency) where w < warmup { try await call() } }
      }
      try await warm.waitForAll()
    }
    let latencies = Latencies()
    let clock = ContinuousClock()
    let started = clock.now
    try await withThrowingTaskGroup(of: Void.self) { load in
      for _ in 0..<concurrency {
        load.addTask {
          var mine: [UInt64] = []
          mine.reserveCapacity(total / concurrency + 1)
          while latencies.next.add(1, ordering: .relaxed).oldValue < total {
            let t0 = clock.now
            do { try await call() } catch { latencies.failures.add(1, ordering: .relaxed) }
            let d = t0.duration(to: clock.now)
            mine.append(UInt64(d.components.seconds) * 1_000_000_000 + UInt64(d.components.attoseconds / 1_000_000_000))
          }
          latencies.add(mine)
        }
      }
      try await load.waitForAll()
    }
    let elapsed = started.duration(to: clock.now)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let all = latencies.store.withLock { $0.flatMap { $0 } }.sorted()
    func pct(_ p: Double) -> Double {
      guard !all.isEmpty else { return 0 }
      let index = min(all.count - 1, Int((p / 100 * Double(all.count)).rounded(.up)) - 1)
      return Double(all[max(0, index)]) / 1000
    }
    let object: [String: Any] = [
      "scenario": "grpc-swift-2 echo", "concurrency": concurrency, "connections": 1, "count": all.count,
      "failures": latencies.failures.load(ordering: .relaxed),
      "total_seconds": seconds, "rps": Double(all.count) / seconds,
      "latency_us": ["p50": pct(50), "p90": pct(90), "p99": pct(99), "p99.9": pct(99.9)],
    ]
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
    client.beginGracefulShutdown()
  }
}

let args = CommandLine.arguments
guard args.count >= 3, let port = Int(args[2]) else {
  FileHandle.standardError.write(Data("usage: peer-grpc server PORT | client PORT -c C -n N [--warmup W]\n".utf8))
  exit(1)
}

switch args[1] {
case "server":
  let transport = HTTP2ServerTransport.Posix(
    address: .ipv4(host: "127.0.0.1", port: port), transportSecurity: .plaintext)
  let server = GRPCServer(transport: transport, services: [EchoService()])
  try await withThrowingDiscardingTaskGroup { group in
    group.addTask { try await server.serve() }
    if let address = try await transport.listeningAddress.ipv4 {
      FileHandle.standardOutput.write(Data("peer-grpc listening on \(address.host):\(address.port)\n".utf8))
    }
  }
case "client":
  try await runClient(port: port)
default:
  FileHandle.standardError.write(Data("usage: peer-grpc server PORT | client PORT -c C -n N\n".utf8))
  exit(1)
}
