import ArgumentParser
import Foundation
import GuestAccessClient
import GuestAccessTransport
import GuestLoadKit

/// `guest-load [run]`: one load run, a built-in scenario or any method with `--call`.
struct RunCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run", abstract: "Run load: a built-in scenario, or any method with --call (ghz's flags; see docs/LOAD.md).")

  @Argument(help: "Built-in scenario: \(LoadScenario.allCases.map(\.rawValue).joined(separator: ", ")) (ignored with --call; default health).")
  var scenario: String?

  @OptionGroup(title: "Target") var target: TargetOptions
  @OptionGroup(title: "Request") var request: RequestOptions
  @OptionGroup(title: "Load") var load: LoadOptions
  @OptionGroup(title: "Output") var output: OutputOptions

  mutating func run() async throws {
    let scenario = try Console.exitOnSetupError { try resolveScenario() }
    let plan = try Console.exitOnSetupError { try load.plan(isScenario: scenario != nil) }
    let source = try Console.exitOnSetupError { try request.source(tenant: target.tenant, timeout: load.callTimeout) }
    let tags = try Console.exitOnSetupError { try output.parsedTags() }
    let credential = try Console.exitOnSetupError { try target.credential() }
    let group = EventLoopGroup(count: target.loopCount, name: "ga-load", busyPoll: .microseconds(target.busyPollMicros))
    let (host, port) = try Console.exitOnSetupError { try target.hostAndPort() }
    let transport = TCPClientTransport(host: host, port: port, connections: target.connections, tls: target.tlsConfiguration, group: group)
    do {
      try await transport.connect()
    } catch {
      Console.error("cannot connect to \(target.server): \(error)")
      throw ExitCode(Console.unavailableExitCode)
    }
    let call: LoadCall
    let retryPolicy: RetryPolicy = target.retry ? .default : .none
    // Without retries, a fixed unary call runs through pipelines unless --tasks says otherwise.
    let mayPipeline = !target.retry && !load.tasks
    var pipelined: PipelinedCall?
    if let source {
      let client = GuestAccessClient(transport: transport, credential: credential, tenant: target.tenant, retryPolicy: retryPolicy)
      if mayPipeline {
        pipelined = try Console.exitOnSetupError { try source.pipelined(transport: transport, defaultMetadata: client.channel.defaultMetadata) }
      }
      let bound = source.method.bound(to: client.channel)
      let limits = request.streamLimits
      if source.isConstant {
        // The same request and options every call: made once (the path as cheap as a scenario's).
        let (message, options) = try source.call(workerID: 0, requestNumber: 0)
        let fixed = bound.fixed(message)
        call = { _, _ in try await fixed(options, limits) }
      } else {
        call = { worker, number in
          let (message, options) = try source.call(workerID: worker, requestNumber: number)
          return try await bound(message, options: options, limits: limits)
        }
      }
    } else {
      do {
        call = try await scenario!.prepare(
          transport: transport, operatorKey: credential, adminKey: target.adminKey, timeout: load.callTimeout, retryPolicy: retryPolicy)
      } catch let error as LoadSetupError {
        Console.error(error.description)
        throw ExitCode(Console.usageExitCode)
      } catch {
        Console.error("cannot set up scenario \(scenario!.rawValue): \(error)")
        throw ExitCode(1)
      }
    }
    let started = Date()
    let showProgress = !output.quiet && isatty(STDERR_FILENO) != 0
    if source == nil && mayPipeline { pipelined = scenario!.pipelined(transport: transport, timeout: load.callTimeout) }
    let result = await LoadRunner(
      plan: plan, loops: group.loops, call: call, pipelined: pipelined, showProgress: showProgress, closeConnections: { transport.close() }
    ).run()
    transport.close()
    let report = LoadReport(
      result: result, name: output.name ?? "", date: started, options: usedOptions(scenario: scenario), tags: tags,
      streaming: source?.method.descriptor.kind == .serverStreaming)
    let text = output.format.render(report, result: result)
    if let path = output.output {
      guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
        Console.error("cannot write -o \(path)")
        throw ExitCode(1)
      }
    } else {
      print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
    }
  }

  /// The scenario to run, or nil for `--call`.
  private func resolveScenario() throws -> LoadScenario? {
    if request.call != nil {
      if let scenario { throw LoadSetupError.invalidOption("give a scenario (\(scenario)) or --call, not both") }
      return nil
    }
    if request.data != nil || request.dataFile != nil || request.metadata != nil || request.metadataFile != nil {
      throw LoadSetupError.invalidOption("-d, -D, -m and -M need --call")
    }
    guard let scenario else { return .health }
    guard let known = LoadScenario(rawValue: scenario) else {
      throw LoadSetupError.invalidOption(
        "unknown scenario \"\(scenario)\"; give one of \(LoadScenario.allCases.map(\.rawValue).joined(separator: ", ")) or --call")
    }
    return known
  }

  /// The options of the run as the report shows them (never the API key; `authorization` metadata redacted).
  private func usedOptions(scenario: LoadScenario?) -> [String: String] {
    var options = target.reportOptions.merging(load.reportOptions) { $1 }
    options.merge(request.reportOptions) { $1 }
    if let scenario { options["scenario"] = scenario.rawValue }
    options["format"] = output.format.rawValue
    return options
  }
}
