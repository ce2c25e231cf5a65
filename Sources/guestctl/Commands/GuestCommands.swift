import ArgumentParser
import GuestAccessClient

/// `guestctl guest …`: the guest lifecycle.
struct GuestCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "guest", abstract: "List, show, look up, update, block, remove, restore and re-invite guests; leave a tenant.",
    subcommands: [
      List.self, Get.self, Lookup.self, Update.self, Block.self, Unblock.self, Remove.self, Restore.self, ResetRedemption.self, Leave.self,
    ])

  /// `guest list [--state S] [--domain D] [--inactive-days N] [--expiring-before T] …`.
  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List guests; filters combine.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var page: PageOptions
    @Option(help: "Only pending or accepted guests.") var state: ExternalUserState?
    @Option(help: "Only guests whose email is in this domain.") var domain: String = ""
    @Option(name: .customLong("inactive-days"), help: "Only guests without a sign-in for this many days.") var inactiveDays: Int32 = 0
    @Option(name: .customLong("expiring-before"), help: "Only guests whose access ends before this time: 2026-12-31 or 30d.")
    var expiringBefore: TimeArgument?
    @Option(help: "Only guests sponsored by this user (self = you).") var sponsor: String = ""
    @Flag(help: "Only removed (restorable) guests.") var removed = false

    mutating func run() async throws {
      let request = ListGuestsRequest(
        tenantID: global.tenantID, externalUserState: state ?? .unspecified, domain: domain, inactiveDays: inactiveDays,
        accessExpiresBeforeAt: expiringBefore?.millis ?? 0, sponsorID: sponsor, removedOnly: removed)
      let (guests, next) = try await global.perform { client in
        try await page.collect { size, token in
          var request = request
          request.pageSize = size
          request.pageToken = token
          let response = try await client.guests.listGuests(request)
          return (response.guests, response.nextPageToken)
        }
      }
      try global.output(ListGuestsResponse(guests: guests, nextPageToken: next), next: next) {
        Table.guests(guests).render(empty: "no guests")
      }
    }
  }

  /// `guest get ID`.
  struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a guest (self: your own guest object).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Guest user id, or self.") var id: String

    mutating func run() async throws {
      let guest = try await global.perform { try await $0.guests.getGuest(GetGuestRequest(tenantID: global.tenantID, userID: id)) }
      try global.output(guest) { DetailView.render(guest) }
    }
  }

  /// `guest lookup --issuer URL --subject SUB`.
  struct Lookup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show the guest a partner's identity provider knows as SUB (its federated identity: issuer and sub).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "The provider's issuer, exactly as in its tokens' iss.") var issuer: String
    @Option(help: "The provider's sub for the person (issuer_assigned_id).") var subject: String

    mutating func run() async throws {
      let request = LookupGuestByIdentityRequest(tenantID: global.tenantID, issuer: issuer, issuerAssignedID: subject)
      let guest = try await global.perform { try await $0.guests.lookupGuestByIdentity(request) }
      try global.output(guest) { DetailView.render(guest) }
    }
  }

  /// `guest update ID [--name N] [--sponsor S]… [--access-expires T]`.
  struct Update: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Change a guest's display name, sponsors or access expiry.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Guest user id.") var id: String
    @Option(help: "New display name.") var name: String?
    @Option(name: .customLong("sponsor"), help: "A sponsor (repeatable; replaces the list).") var sponsors: [String] = []
    @Option(name: .customLong("access-expires"), help: "When access ends: 2026-12-31, 90d, or never.") var accessExpires: TimeArgument?

    func validate() throws {
      guard name != nil || !sponsors.isEmpty || accessExpires != nil else {
        throw ValidationError("name something to change: --name, --sponsor or --access-expires")
      }
    }

    mutating func run() async throws {
      var request = UpdateGuestRequest(tenantID: global.tenantID, userID: id)
      if let name { request.displayName = name; request.updateMask.append("display_name") }
      if !sponsors.isEmpty { request.sponsors = sponsors; request.updateMask.append("sponsors") }
      if let accessExpires { request.accessExpiresAt = accessExpires.millis; request.updateMask.append("access_expires_at") }
      let guest = try await global.perform { [request] in try await $0.guests.updateGuest(request) }
      try global.output(guest) { DetailView.render(guest) }
    }
  }

  /// `guest block ID`.
  struct Block: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Block a guest's sign-in at once.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Guest user id.") var id: String

    mutating func run() async throws {
      let guest = try await global.perform { try await $0.guests.blockSignIn(BlockSignInRequest(tenantID: global.tenantID, userID: id)) }
      try global.output(guest) { DetailView.render(guest) }
    }
  }

  /// `guest unblock ID`.
  struct Unblock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Let a blocked guest sign in again (cancels a scheduled removal).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Guest user id.") var id: String

    mutating func run() async throws {
      let guest = try await global.perform { try await $0.guests.unblockSignIn(UnblockSignInRequest(tenantID: global.tenantID, userID: id)) }
      try global.output(guest) { DetailView.render(guest) }
    }
  }

  /// `guest remove ID`.
  struct Remove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove a guest: refused at once, restorable for 30 days.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Guest user id.") var id: String

    mutating func run() async throws {
      let guest = try await global.perform { try await $0.guests.removeGuest(RemoveGuestRequest(tenantID: global.tenantID, userID: id)) }
      try global.output(guest) { DetailView.render(guest) }
    }
  }

  /// `guest restore ID`.
  struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Restore a removed guest with its memberships and assignments.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Guest user id.") var id: String

    mutating func run() async throws {
      let guest = try await global.perform { try await $0.guests.restoreGuest(RestoreGuestRequest(tenantID: global.tenantID, userID: id)) }
      try global.output(guest) { DetailView.render(guest) }
    }
  }

  /// `guest reset-redemption ID [--new-email E] …`.
  struct ResetRedemption: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "reset-redemption",
      abstract: "Re-invite a guest keeping its id, groups and apps; prints the new redeem URL.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Guest user id.") var id: String
    @Option(name: .customLong("new-email"), help: "A new email address for the guest.") var newEmail: String = ""
    @Option(name: .customLong("redirect-url"), help: "Where the guest lands after redeeming.") var redirectURL: String = ""
    @Flag(name: .customLong("send-email"), help: "Email the new invitation.") var sendEmail = false
    @Option(help: "A personal message for the email.") var message: String = ""
    @Option(help: "One address to copy the email to.") var cc: String = ""
    @Option(name: .customLong("expires-days"), help: "Days the new redeem URL works.") var expiresDays: Int64?
    @Option(name: .customLong("idempotency-key"), help: "Makes retries safe.") var idempotencyKey: String = ""

    mutating func run() async throws {
      let request = ResetRedemptionRequest(
        tenantID: global.tenantID, userID: id, idempotencyKey: idempotencyKey, newEmail: newEmail, redirectURL: redirectURL,
        sendInvitationMessage: sendEmail, messageInfo: InvitationMessageInfo(ccRecipient: cc, customizedMessageBody: message),
        expiresInSeconds: (expiresDays ?? 0) * 86_400)
      let response = try await global.perform { try await $0.guests.resetRedemption(request) }
      try global.output(response) { DetailView.render(response) }
    }
  }

  /// `guest leave [TENANT]`: the caller leaves a tenant where it is a guest.
  struct Leave: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Leave a tenant where you are a guest.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The tenant to leave (default: --tenant).") var tenantToLeave: String?

    func validate() throws {
      guard tenantToLeave != nil || global.tenant != nil else { throw ValidationError("name the tenant to leave") }
    }

    mutating func run() async throws {
      let tenant = tenantToLeave ?? global.tenant ?? ""
      let guest = try await global.perform(actingTenant: tenant) { try await $0.guests.leaveTenant(LeaveTenantRequest(tenantID: tenant)) }
      try global.output(guest) { DetailView.render(guest) }
    }
  }
}
