"""The French sentences the engine says on its own, outside any consultation file."""

HELP = (
    "Relais : votre avis pour la Région Hauts-de-France. Mots utiles : RECOMMENCER, "
    "MES DONNEES, SUPPRIMER, STOP."
)
PRIVACY = "Vos droits : {url}"
SKIP_HINT = "Envoyez PASSER pour ne pas répondre."
STOPPED = (
    "C'est noté, vous ne recevrez plus de messages de Relais. "
    "Envoyez START pour revenir."
)
# Said before the welcome when an invite brought the person, except by SMS, where it would
# cost a third message on first contact.
RELAYED_BY = "Invitation transmise par {association}."
RESTARTED_AFTER_STOP = "Bon retour parmi nous !"
RESUMED = "Reprenons où vous en étiez (question {position} sur {total})."
ALREADY_DONE = (
    "Vous avez déjà répondu, merci ! Envoyez RECOMMENCER pour répondre à nouveau, "
    "ou MES DONNEES pour voir vos réponses."
)
ERASE_CONFIRM = (
    "Voulez-vous effacer toutes vos réponses ? Répondez OUI pour confirmer, "
    "NON pour garder vos réponses."
)
ERASED = "Vos réponses sont effacées. Merci. Écrivez-nous à nouveau pour recommencer."
ERASE_CANCELLED = "Rien n'a été effacé."
RESTART = "On recommence depuis le début."
CONSENT_HINT = "Merci de répondre OUI ou NON."
AFTER_REFUSAL = ("Vous avez répondu NON : rien n'est gardé. Pour participer quand même, "
                 "répondez OUI.")
FAILED = "Désolé, un problème nous empêche de continuer. Envoyez RECOMMENCER pour reprendre."
MEDIA = "Merci de répondre par un message écrit : nous ne lisons pas les images ni les sons."

# A hint per question type, used when the consultation file gives none.
HINTS = {
    "text": "Écrivez votre réponse en quelques mots.",
    "single_choice": "Répondez par le numéro d'une proposition, par exemple 1.",
    "multiple_choice": "Répondez par un ou plusieurs numéros, par exemple 1, 3.",
    "scale": "Répondez par un chiffre de {minimum} à {maximum}.",
    "yes_no": "Répondez OUI ou NON.",
    "postcode": "Écrivez votre code postal en 5 chiffres, par exemple 80000.",
    "number": "Répondez par un nombre de {minimum} à {maximum}.",
}
NOT_UNDERSTOOD = "Je n'ai pas compris."
CONFIRM_THEME = "J'ai compris : {theme}. C'est bien ça ? Répondez OUI ou NON."
CHOOSE_THEME = "D'accord, merci de me corriger. De quoi parliez-vous surtout ?"
OTHER_THEME = "Autre chose"
THEME_NOTED = "D'accord, merci : une personne de la Région relira votre réponse."
STALE_CHOICE = "Ce choix répond à une question précédente."
REQUIRED = "Cette question demande une réponse."
MAX_CHOICES = "Choisissez au plus {maximum} réponses."
TOO_MANY_CHOICES = "Vous en avez choisi {given} : {maximum} au plus, s'il vous plaît."
UNKNOWN_COMMUNE = "Je ne trouve pas « {name} » parmi les communes des Hauts-de-France."
AMBIGUOUS_COMMUNE = "Plusieurs communes portent ce nom : {options} ?"
