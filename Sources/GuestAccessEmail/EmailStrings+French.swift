extension EmailStrings {
  /// French.
  public static let french = EmailStrings(
    language: "fr",
    date: { time in
      let months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"]
      return "\(time.day == 1 ? "1er" : String(time.day)) \(months[time.month - 1]) \(time.year) à \(time.hourMinute) UTC"
    },
    senderName: { sender, tenant in "\(sender) pour le compte de \(tenant)" },
    greeting: { name in name.isEmpty ? "Bonjour," : "Bonjour \(name)," },
    invitationSubject: { inviter, tenant in "\(inviter) vous invite à accéder aux applications de \(tenant)" },
    invitationIntro: { inviter, mail, tenant in
      let who = mail.isEmpty ? inviter : "\(inviter) (\(mail))"
      return "\(who) vous invite à collaborer avec \(tenant) en tant qu’invité. Vous continuez à vous connecter avec votre propre compte."
    },
    customMessageHeading: { inviter in "Message de \(inviter) :" },
    acceptButton: "Accepter l’invitation",
    acceptLinkIntro: "Pour accepter l’invitation, ouvrez ce lien :",
    invitationExpiry: { date in "Cette invitation expire le \(date)." },
    invitationIgnore: "Si vous n’attendiez pas cette invitation, vous pouvez ignorer cet e-mail. N’acceptez que les invitations de personnes et d’organisations de confiance.",
    passcodeSubject: { tenant in "Votre code de vérification pour \(tenant)" },
    passcodeIntro: { tenant in "Saisissez ce code pour terminer l’acceptation de votre invitation à \(tenant) :" },
    passcodeExpiry: { date in "Le code expire le \(date). Saisissez-le là où vous avez commencé à accepter l’invitation." },
    passcodeIgnore: "Si vous n’avez pas demandé de code, quelqu’un a peut-être saisi votre adresse e-mail par erreur. Vous pouvez ignorer cet e-mail.",
    signInPasscodeIntro: { tenant in "Saisissez ce code pour vous connecter à \(tenant) en tant qu’invité :" },
    signInPasscodeExpiry: { date in "Le code expire le \(date). Saisissez-le là où vous avez commencé à vous connecter." },
    footer: { tenant in "Envoyé par GuestAccess pour le compte de \(tenant)." })
}
