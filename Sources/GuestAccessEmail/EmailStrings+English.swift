extension EmailStrings {
  /// English, the fallback.
  public static let english = EmailStrings(
    language: "en",
    date: { time in
      let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
      return "\(months[time.month - 1]) \(time.day), \(time.year), \(time.hourMinute) UTC"
    },
    senderName: { sender, tenant in "\(sender) on behalf of \(tenant)" },
    greeting: { name in name.isEmpty ? "Hello," : "Hello \(name)," },
    invitationSubject: { inviter, tenant in "\(inviter) invited you to access applications within \(tenant)" },
    invitationIntro: { inviter, mail, tenant in
      let who = mail.isEmpty ? inviter : "\(inviter) (\(mail))"
      return "\(who) invited you to collaborate with \(tenant) as a guest. You keep signing in with your own account."
    },
    customMessageHeading: { inviter in "Message from \(inviter):" },
    acceptButton: "Accept invitation",
    acceptLinkIntro: "To accept the invitation, open this link:",
    invitationExpiry: { date in "This invitation expires on \(date)." },
    invitationIgnore: "If you were not expecting this invitation, you can ignore this email. Only accept invitations from people and organizations you trust.",
    passcodeSubject: { tenant in "Your \(tenant) verification code" },
    passcodeIntro: { tenant in "Use this code to finish accepting your invitation to \(tenant):" },
    passcodeExpiry: { date in "The code expires on \(date). Enter it where you started accepting the invitation." },
    passcodeIgnore: "If you did not ask for a code, someone may have entered your email address by mistake. You can ignore this email.",
    signInPasscodeIntro: { tenant in "Use this code to sign in to \(tenant) as a guest:" },
    signInPasscodeExpiry: { date in "The code expires on \(date). Enter it where you started signing in." },
    footer: { tenant in "Sent by GuestAccess on behalf of \(tenant)." })
}
