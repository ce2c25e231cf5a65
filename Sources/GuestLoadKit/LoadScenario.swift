import Foundation
import GuestAccessClient
import GuestAccessTransport
import Synchronization

/// What each call of a load run does.
public enum LoadScenario: String, CaseIterable, Sendable {
  /// Health.Check of the whole server (no credential).
  case health
  /// TenantService.GetTenant as the tenant's admin.
  case getTenant = "get-tenant"
  /// TenantService.GetUser of one of the tenant's users.
  case getUser = "get-user"
  /// TenantService.ListUsers, first page of 50.
  case listUsers = "list-users"
  /// TenantService.CreateGroup with a new name each call: a durable single-object
  /// write (the group and its audit event in one transaction).
  case createGroup = "create-group"
  /// InvitationService.CreateInvitation of a new address each call: a durable
  /// multi-object write (guest user, invitation, rate window, audit event).
  case createInvitation = "create-invitation"
  /// GuestService.CheckAccess of a member against an application.
  case checkAccess = "check-access"
  /// A realistic blend: 40% get, 15% list users, 20% check access, 15% create invitation, 10% list invitations.
  case mix

  /// Whether the scenario needs a tenant (set up with the operator key, or given with --admin-key).
  public var needsTenant: Bool { self != .health }

  /// Sets up what the scenario needs and returns the call to repeat.
  public func prepare(
    transport: any ClientTransport, operatorKey: String?, adminKey: String?, timeout: Duration?, retryPolicy: RetryPolicy = .none
  ) async throws -> LoadCall {
    let call = try await prepareCall(
      transport: transport, operatorKey: operatorKey, adminKey: adminKey, options: CallOptions(timeout: timeout), retryPolicy: retryPolicy)
    return { _, _ in
      try await call()
      return .unary
    }
  }

  /// The scenario's call in the form the runner can start without a task
  /// (`LoadRunner.pipelined`), when it has one: Health.Check, the same
  /// request every time and no credential.
  public func pipelined(transport: TCPClientTransport, timeout: Duration?) -> PipelinedCall? {
    guard self == .health else { return nil }
    return PipelinedCall(
      transport: transport,
      call: UnaryPipeline.Call(path: Health.Method.check.path, metadata: Metadata(), request: HealthCheckRequest().serializedBytes(), timeout: timeout))
  }

  private func prepareCall(
    transport: any ClientTransport, operatorKey: String?, adminKey: String?, options: CallOptions, retryPolicy: RetryPolicy
  ) async throws -> @Sendable () async throws -> Void {
    if self == .health {
      let health = GuestAccessClient(transport: transport, retryPolicy: retryPolicy).health
      let request = HealthCheckRequest()
      return { _ = try await health.check(request, options: options) }
    }
    let fixture = try await LoadFixture.make(transport: transport, operatorKey: operatorKey, adminKey: adminKey, retryPolicy: retryPolicy)
    let tenants = fixture.admin.tenants
    let invitations = fixture.admin.invitations
    let guests = fixture.admin.guests
    let counter = Atomic<Int>(0)
    let run = UUID().uuidString.prefix(8).lowercased()
    let getTenant = { @Sendable in _ = try await tenants.getTenant(GetTenantRequest(), options: options) }
    let getUser = { @Sendable in _ = try await tenants.getUser(GetUserRequest(userID: fixture.userID), options: options) }
    let listUsers = { @Sendable in _ = try await tenants.listUsers(ListUsersRequest(pageSize: 50), options: options) }
    let invite = { @Sendable in
      let n = counter.add(1, ordering: .relaxed).oldValue
      _ = try await invitations.createInvitation(CreateInvitationRequest(invitedEmail: "load-\(run)-\(n)@partner.example"), options: options)
    }
    let createGroup = { @Sendable in
      let n = counter.add(1, ordering: .relaxed).oldValue
      _ = try await tenants.createGroup(CreateGroupRequest(displayName: "load-\(run)-\(n)"), options: options)
    }
    let listInvitations = { @Sendable in _ = try await invitations.listInvitations(ListInvitationsRequest(pageSize: 20), options: options) }
    let checkAccess = { @Sendable in
      _ = try await guests.checkAccess(
        CheckAccessRequest(principalUserID: fixture.userID, resourceID: fixture.applicationID, resourceType: .application), options: options)
    }
    switch self {
    case .health: fatalError("handled above")
    case .getTenant: return getTenant
    case .getUser: return getUser
    case .listUsers: return listUsers
    case .createGroup: return createGroup
    case .createInvitation: return invite
    case .checkAccess: return checkAccess
    case .mix:
      return {
        let pick = Int.random(in: 0..<100)
        switch pick {
        case 0..<20: try await getTenant()
        case 20..<40: try await getUser()
        case 40..<55: try await listUsers()
        case 55..<75: try await checkAccess()
        case 75..<90: try await invite()
        default: try await listInvitations()
        }
      }
    }
  }
}

/// The tenant a load run works in: made with the operator key (a fresh
/// tenant, a member assigned to an application, a rate limit high enough for
/// the run), or an existing one reached with its admin's key.
struct LoadFixture: Sendable {
  let admin: GuestAccessClient
  let userID: String
  let applicationID: String

  static func make(
    transport: any ClientTransport, operatorKey: String?, adminKey: String?, retryPolicy: RetryPolicy = .none
  ) async throws -> LoadFixture {
    if let adminKey {
      let admin = GuestAccessClient(transport: transport, credential: adminKey, retryPolicy: retryPolicy)
      let users = try await admin.tenants.listUsers(ListUsersRequest(pageSize: 1, userType: .member))
      let apps = try await admin.tenants.listApplications(ListApplicationsRequest(pageSize: 1))
      return LoadFixture(admin: admin, userID: users.users.first?.id ?? "", applicationID: apps.applications.first?.id ?? "")
    }
    guard let operatorKey else {
      throw LoadSetupError.invalidOption("this scenario needs --api-key (the operator key, to set up a tenant) or --admin-key")
    }
    let op = GuestAccessClient(transport: transport, credential: operatorKey, retryPolicy: .none)
    let suffix = UUID().uuidString.prefix(8).lowercased()
    let created = try await op.tenants.createTenant(CreateTenantRequest(
      displayName: "Load \(suffix)", verifiedDomains: ["load-\(suffix).example"], adminMail: "admin@load-\(suffix).example",
      settings: TenantSettings(invitationRateLimit: 1_000_000, invitationRateWindowSeconds: 60)))
    let admin = GuestAccessClient(transport: transport, credential: created.adminSecret, retryPolicy: retryPolicy)
    let user = try await admin.tenants.createUser(CreateUserRequest(displayName: "Load User", mail: "user@load-\(suffix).example"))
    let app = try await admin.tenants.createApplication(CreateApplicationRequest(displayName: "Load App"))
    _ = try await admin.tenants.assignApplication(AssignApplicationRequest(applicationID: app.id, userID: user.id))
    return LoadFixture(admin: admin, userID: user.id, applicationID: app.id)
  }
}
