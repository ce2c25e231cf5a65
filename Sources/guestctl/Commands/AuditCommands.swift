import ArgumentParser
import GuestAccessClient
import Synchronization

/// `guestctl audit list|follow`: the audit log.
struct AuditCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit", abstract: "List or follow the audit log (GLOBAL_ADMIN or operator).",
    subcommands: [List.self, Follow.self])

  /// `audit list [--after SEQ] [--action A]… [--actor ID] [--target ID] …`.
  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List audit events, oldest first.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var page: PageOptions
    @Option(help: "Only events after this sequence number.") var after: Int64 = 0
    @Option(name: .customLong("action"), help: "Only this action (repeatable), e.g. invitation-created.") var actions: [AuditAction] = []
    @Option(help: "Only events by this actor id.") var actor: String = ""
    @Option(help: "Only events on this target id.") var target: String = ""
    @Option(help: "Only success or failure.") var outcome: AuditOutcome?
    @Option(help: "Only events at or after this time: 2026-11-01 or -7d.") var since: TimeArgument?
    @Option(help: "Only events before this time.") var until: TimeArgument?
    @Flag(name: .customLong("newest-first"), help: "Newest first.") var newestFirst = false

    mutating func run() async throws {
      let request = ListAuditEventsRequest(
        tenantID: global.tenantID, afterSequence: after, actions: actions, actorID: actor, targetID: target,
        outcome: outcome ?? .unspecified, occurredAfterAt: since?.millis ?? 0, occurredBeforeAt: until?.millis ?? 0,
        newestFirst: newestFirst)
      let (events, next) = try await global.perform { client in
        try await page.collect { size, token in
          var request = request
          request.pageSize = size
          request.pageToken = token
          let response = try await client.tenants.listAuditEvents(request)
          return (response.events, response.nextPageToken)
        }
      }
      try global.output(ListAuditEventsResponse(events: events, nextPageToken: next), next: next) {
        Table.auditEvents(events).render(empty: "no audit events")
      }
    }
  }

  /// `audit follow [--after SEQ | --new-only] [--action A]…`: streams until Ctrl-C.
  struct Follow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Stream audit events as they commit, until Ctrl-C (with --json: one JSON object per line).",
      discussion: "Replays stored events after --after first. When the server restarts, it reconnects and resumes after the last event seen.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Replay stored events after this sequence number first (0 = from the start).") var after: Int64 = 0
    @Flag(name: .customLong("new-only"), help: "Only events committed from now on.") var newOnly = false
    @Option(name: .customLong("action"), help: "Only this action (repeatable).") var actions: [AuditAction] = []

    mutating func run() async throws {
      let last = Atomic<Int64>(after)
      let seen = Atomic<Bool>(false)
      let (json, tenantID, actions, newOnly) = (global.json || global.field != nil, global.tenantID, actions, newOnly)
      let client = try global.makeClient()
      defer { client.close() }
      var failures = 0
      while true {
        let request = WatchAuditEventsRequest(
          tenantID: tenantID, afterSequence: last.load(ordering: .relaxed), newOnly: newOnly && !seen.load(ordering: .relaxed), actions: actions)
        do {
          try await client.tenants.watchAuditEvents(request) { stream in
            for try await event in stream {
              Console.line(json ? JSONOutput.compact(event) : AuditLine.text(event))
              last.store(event.sequence, ordering: .relaxed)
              seen.store(true, ordering: .relaxed)
            }
          }
          return
        } catch let error as RPCError where error.code == .unavailable && failures < 30 {
          failures += 1
          Console.error("note: stream interrupted (\(error.message)); reconnecting…")
          try await Task.sleep(for: .seconds(min(failures, 5)))
        } catch let error as RPCError {
          Console.error(ErrorReport.text(for: error))
          throw ExitCode(ErrorReport.exitCode(for: error))
        }
      }
    }
  }
}
