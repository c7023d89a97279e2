"""The audit journal in plain French: what each action and each detail means to a reader."""

ACTIONS = {
    "login.succeeded": "Connexion réussie",
    "login.failed": "Connexion refusée (mauvais identifiants)",
    "login.code_requested": "Mot de passe juste, code de double authentification demandé",
    "login.code_failed": "Code de double authentification refusé",
    "logout": "Déconnexion",
    "user.created": "Compte créé",
    "user.disabled": "Compte désactivé",
    "user.enabled": "Compte réactivé",
    "user.password_changed": "Mot de passe changé",
    "user.2fa_enabled": "Double authentification activée",
    "user.2fa_disabled": "Double authentification désactivée",
    "user.2fa_reset": "Double authentification réinitialisée par un opérateur",
    "export": "Export téléchargé",
    "theme.confirmed": "Thème validé",
    "theme.changed": "Thème corrigé",
    "answer.set_aside": "Réponse écartée",
    "answer.restored": "Réponse rétablie",
    "quote.pinned": "Citation choisie",
    "quote.unpinned": "Citation retirée",
    "feedback.sent": "Message de retour envoyé",
    "invite.created": "Invitation créée",
    "invite.revoked": "Invitation désactivée",
    "invite.reactivated": "Invitation réactivée",
    "association.created": "Association enregistrée",
    "consultation.published": "Consultation publiée",
    "participant.erased": "Réponses effacées à la demande du participant (SUPPRIMER)",
    "purge": "Purge des données arrivées à échéance",
    "plan.action_created": "Action ajoutée au plan",
    "plan.action_proposed": "Action proposée par une association",
    "plan.action_changed": "Action du plan modifiée",
    "plan.comment_added": "Commentaire sur une action",
    "plan.milestone_added": "Jalon ajouté à une action",
    "plan.proposal_decided": "Décision sur une proposition",
    "plan.imported": "Plan importé (CSV)",
    "plan.exported": "Plan exporté (CSV)",
    "plan.status_added": "Statut d'action ajouté",
    "plan.indicator_defined": "Indicateur de suivi ajouté",
    "plan.measurement_recorded": "Mesure d'un indicateur saisie",
    "plan.measurement_validated": "Mesure d'un indicateur validée",
    "plan.participants_notified": "Participants informés d'une action",
}
FAMILIES = {"login": "Connexions", "user": "Comptes", "theme": "Thèmes",
            "answer": "Réponses écartées", "quote": "Citations", "feedback": "Retours",
            "invite": "Invitations", "association": "Associations",
            "consultation": "Consultations", "participant": "Participants",
            "export": "Exports", "purge": "Purges", "logout": "Déconnexions",
            "plan": "Plan d'actions"}
DETAILS = {
    "consultation": "consultation", "consultation_id": "consultation", "what": "contenu",
    "format": "format", "question": "question", "filters": "filtres", "rows": "lignes",
    "complete": "complet", "before": "avant", "after": "après", "reason": "motif",
    "theme": "thème", "territory": "territoire", "recipients": "destinataires",
    "role": "rôle", "email": "adresse", "association": "association",
    "second_factor": "double authentification", "was_enabled": "était activée",
    "version": "version", "account": "compte", "code": "code",
    "fields": "champs", "decision": "décision", "merged_into": "fusionnée dans",
    "created": "créées", "updated": "modifiées",
}
ACTORS = {"system": "Relais", "cli": "opérateur (ligne de commande)",
          "participant": "participant", "admin-view": "vue d'administration",
          "anonyme": "anonyme"}
ROLES = {"official": "agent", "association": "association", "admin": "administrateur"}


def action(key: str) -> str:
    """Returns what an action means, in French (the key itself when it is new)."""
    return ACTIONS.get(key, key)


def family(key: str) -> str:
    """Returns the French name of a family of actions."""
    return FAMILIES.get(key, ACTIONS.get(key, key))


def actor(value: str) -> str:
    """Returns who acted: "agent : elue@…", "Relais", "opérateur (ligne de commande)"."""
    role, _, who = value.partition(":")
    if who and role in ROLES:
        return f"{ROLES[role]} : {who}"
    return ACTORS.get(value, value)


def detail(value: object) -> str:
    """Returns a detail's value as a reader expects it: no "None", "True" or brackets."""
    if value is None or value == "" or value == []:
        return "—"
    if value is True:
        return "oui"
    if value is False:
        return "non"
    if isinstance(value, list | tuple):
        return ", ".join(detail(v) for v in value)
    return str(value)


def details(values: dict | None) -> list[tuple[str, str]]:
    """Returns the details of an entry as (French name, value), empty ones left out."""
    return [(DETAILS.get(k, k), detail(v)) for k, v in (values or {}).items()
            if v not in (None, "", [])]
