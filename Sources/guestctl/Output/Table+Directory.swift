import GuestAccessClient

/// Tables of tenants and directory objects.
extension Table {
  /// Tenants: id, name, domains, state, created.
  static func tenants(_ tenants: [Tenant]) -> Table {
    var table = Table("id", "name", "domains", "state", "created")
    for tenant in tenants {
      table.add(tenant.id, tenant.displayName, Display.list(tenant.verifiedDomains), Display.name(tenant.state), Display.time(tenant.createdAt))
    }
    return table
  }

  /// Users: id, name, mail, type, roles, enabled, guest state.
  static func users(_ users: [User]) -> Table {
    var table = Table("id", "name", "mail", "type", "roles", "enabled", "guest state")
    for user in users {
      table.add(
        user.id, user.displayName, user.mail, Display.name(user.userType), Display.names(user.roles), Display.yesNo(user.accountEnabled),
        Display.name(user.externalUserState))
    }
    return table
  }

  /// Guests: id, name, mail, state, enabled, last sign-in, access expiry, removed.
  static func guests(_ guests: [User]) -> Table {
    var table = Table("id", "name", "mail", "state", "enabled", "last sign-in", "access expires", "removed")
    for guest in guests {
      table.add(
        guest.id, guest.displayName, guest.mail, Display.name(guest.externalUserState), Display.yesNo(guest.accountEnabled),
        Display.time(guest.lastSignInAt), Display.time(guest.accessExpiresAt), Display.time(guest.deletedAt))
    }
    return table
  }

  /// Groups: id, name, description.
  static func groups(_ groups: [Group]) -> Table {
    var table = Table("id", "name", "description", "created")
    for group in groups { table.add(group.id, group.displayName, group.description, Display.time(group.createdAt)) }
    return table
  }

  /// Applications: id, name, description.
  static func applications(_ applications: [Application]) -> Table {
    var table = Table("id", "name", "description", "created")
    for app in applications { table.add(app.id, app.displayName, app.description, Display.time(app.createdAt)) }
    return table
  }

  /// Credentials: id, user, label, hint, state, created, expires, last used.
  static func credentials(_ credentials: [Credential]) -> Table {
    var table = Table("id", "user", "label", "hint", "state", "created", "expires", "last used")
    for key in credentials {
      table.add(
        key.id, key.principalType == .operator ? "(operator)" : key.userID, key.displayName, key.secretHint + "…",
        Display.name(key.state), Display.time(key.createdAt), Display.time(key.expiresAt), Display.time(key.lastUsedAt))
    }
    return table
  }

  /// Tenants where the caller is a guest: tenant, name, guest id, state.
  static func guestTenants(_ entries: [GuestTenant]) -> Table {
    var table = Table("tenant", "name", "guest id", "state", "enabled", "access expires")
    for entry in entries {
      table.add(
        entry.tenantID, entry.tenantDisplayName, entry.guest.id, Display.name(entry.guest.externalUserState),
        Display.yesNo(entry.guest.accountEnabled), Display.time(entry.guest.accessExpiresAt))
    }
    return table
  }
}
