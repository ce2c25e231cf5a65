import ArgumentParser
import GuestAccessClient

/// `guestctl review …`: access reviews of guests.
struct ReviewCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "review", abstract: "Access reviews: create, show, list, see decisions, decide, apply.",
    subcommands: [Create.self, Get.self, List.self, Decisions.self, Decide.self, Apply.self])

  /// `review create NAME --scope all-guests|group-guests [--group G] --reviewer U …`.
  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start a review of the guests in scope.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Display name, e.g. \"Q3 contractor review\".") var name: String
    @Option(help: "Which guests: all-guests, or group-guests with --group.") var scope: AccessReviewScope = .allGuests
    @Option(help: "The group whose guests are reviewed.") var group: String = ""
    @Option(name: .customLong("reviewer"), help: "A member who decides (repeatable; 1-20).") var reviewers: [String]
    @Option(name: .customLong("grace-days"), help: "Days between blocking a denied guest and removing it (default 30).") var graceDays: Int32 = 0
    @Option(name: .customLong("default"), help: "Applied to undecided guests: approve or deny (default: no change).")
    var defaultDecision: ReviewDecisionType?
    @Option(name: .customLong("idempotency-key"), help: "Makes retries safe.") var idempotencyKey: String = ""

    mutating func run() async throws {
      let request = CreateAccessReviewRequest(
        tenantID: global.tenantID, idempotencyKey: idempotencyKey, displayName: name, scope: group.isEmpty ? scope : .groupGuests,
        groupID: group, reviewerIDs: reviewers, gracePeriodDays: graceDays, defaultDecision: defaultDecision ?? .unspecified)
      let review = try await global.perform { try await $0.guests.createAccessReview(request) }
      try global.output(review) { DetailView.render(review) }
    }
  }

  /// `review get ID`.
  struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show an access review.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Access review id.") var id: String

    mutating func run() async throws {
      let request = GetAccessReviewRequest(tenantID: global.tenantID, accessReviewID: id)
      let review = try await global.perform { try await $0.guests.getAccessReview(request) }
      try global.output(review) { DetailView.render(review) }
    }
  }

  /// `review list [--status S] [--reviewer U]`.
  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List access reviews, newest first.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var page: PageOptions
    @Option(help: "Only reviews with this status.") var status: AccessReviewStatus?
    @Option(help: "Only reviews this user reviews (self = you).") var reviewer: String = ""

    mutating func run() async throws {
      let (tenantID, status, reviewer) = (global.tenantID, status ?? .unspecified, reviewer)
      let (reviews, next) = try await global.perform { client in
        try await page.collect { size, token in
          let response = try await client.guests.listAccessReviews(
            ListAccessReviewsRequest(tenantID: tenantID, pageSize: size, pageToken: token, status: status, reviewerID: reviewer))
          return (response.accessReviews, response.nextPageToken)
        }
      }
      try global.output(ListAccessReviewsResponse(accessReviews: reviews, nextPageToken: next), next: next) {
        Table.accessReviews(reviews).render(empty: "no access reviews")
      }
    }
  }

  /// `review decisions ID [--undecided]`.
  struct Decisions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List a review's guests with their decisions.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var page: PageOptions
    @Argument(help: "Access review id.") var id: String
    @Flag(help: "Only guests without a decision yet.") var undecided = false

    mutating func run() async throws {
      let (tenantID, id, undecided) = (global.tenantID, id, undecided)
      let (decisions, next) = try await global.perform { client in
        try await page.collect { size, token in
          let response = try await client.guests.listReviewDecisions(ListReviewDecisionsRequest(
            tenantID: tenantID, accessReviewID: id, pageSize: size, pageToken: token, undecidedOnly: undecided))
          return (response.decisions, response.nextPageToken)
        }
      }
      try global.output(ListReviewDecisionsResponse(decisions: decisions, nextPageToken: next), next: next) {
        Table.reviewDecisions(decisions).render(empty: "no guests in this review")
      }
    }
  }

  /// `review decide REVIEW GUEST approve|deny [--justification J]`.
  struct Decide: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Record (or replace) the decision on one guest.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Access review id.") var review: String
    @Argument(help: "Guest user id.") var guest: String
    @Argument(help: "approve or deny.") var decision: ReviewDecisionType
    @Option(help: "Why.") var justification: String = ""

    mutating func run() async throws {
      let request = RecordDecisionRequest(
        tenantID: global.tenantID, accessReviewID: review, guestUserID: guest, decision: decision, justification: justification)
      let recorded = try await global.perform { try await $0.guests.recordDecision(request) }
      try global.output(recorded) { DetailView.render(recorded) }
    }
  }

  /// `review apply ID`.
  struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Apply a review: denied guests are blocked now and removed after the grace period.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Access review id.") var id: String

    mutating func run() async throws {
      let request = ApplyAccessReviewRequest(tenantID: global.tenantID, accessReviewID: id)
      let response = try await global.perform { try await $0.guests.applyAccessReview(request) }
      try global.output(response) { DetailView.render(response) }
    }
  }
}
