import GuestAccessClient

/// Tables of invitations, audit events and access reviews.
extension Table {
  /// Invitations: id, email, status, guest, expires, email delivery.
  static func invitations(_ invitations: [Invitation]) -> Table {
    var table = Table("id", "email", "status", "guest", "expires", "email")
    for invitation in invitations {
      table.add(
        invitation.id, invitation.invitedEmail, Display.name(invitation.status), invitation.guestUserID,
        Display.time(invitation.expiresAt), Display.name(invitation.emailDelivery.status))
    }
    return table
  }

  /// Per-row results of a bulk invitation: row, email, result, invitation, guest, detail.
  static func batchResults(_ results: [InvitationBatchResult], emails: [String]) -> Table {
    var table = Table("row", "email", "result", "invitation", "guest", "redeem url / error")
    for result in results {
      let index = Int(result.index)
      let email = emails.indices.contains(index) ? emails[index] : result.invitation.invitedEmail
      if result.code == 0 {
        table.add(
          String(index + 1), email, result.alreadyPending ? "ALREADY_PENDING" : "OK", result.invitation.id,
          result.invitation.guestUserID, result.invitation.redeemURL)
      } else {
        let reason = result.reason.isEmpty ? "" : " (\(result.reason))"
        table.add(String(index + 1), email, StatusCode(rawValue: result.code).name, "", "", result.message + reason)
      }
    }
    return table
  }

  /// Audit events: sequence, time, (tenant,) actor, action, target, outcome.
  /// The tenant column shows only when the events span several tenants (the operator's view).
  static func auditEvents(_ events: [AuditEvent]) -> Table {
    let manyTenants = Swift.Set(events.map(\.tenantID)).count > 1
    var table = manyTenants
      ? Table("seq", "time", "tenant", "actor", "action", "target", "outcome") : Table("seq", "time", "actor", "action", "target", "outcome")
    for event in events {
      let tenant = manyTenants ? [Display.text(event.tenantID)] : []
      table.add(row: [String(event.sequence), Display.time(event.occurredAt)] + tenant + [
        AuditLine.actor(event), Display.name(event.action), AuditLine.target(event), Display.name(event.outcome),
      ])
    }
    return table
  }

  /// Access reviews: id, name, scope, status, guests, approved, denied, created.
  static func accessReviews(_ reviews: [AccessReview]) -> Table {
    var table = Table("id", "name", "scope", "status", "guests", "approved", "denied", "created")
    for review in reviews {
      table.add(
        review.id, review.displayName, Display.name(review.scope) + (review.groupID.isEmpty ? "" : " \(review.groupID)"),
        Display.name(review.status), String(review.guestCount), String(review.approvedCount), String(review.deniedCount),
        Display.time(review.createdAt))
    }
    return table
  }

  /// The guests of a review with their decisions.
  static func reviewDecisions(_ decisions: [ReviewDecision]) -> Table {
    var table = Table("guest", "name", "mail", "last sign-in", "decision", "reviewer", "justification")
    for decision in decisions {
      table.add(
        decision.guestUserID, decision.guestDisplayName, decision.guestMail, Display.time(decision.guestLastSignInAt),
        Display.name(decision.decision), decision.reviewerID, decision.justification)
    }
    return table
  }
}
