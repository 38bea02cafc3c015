"""Suggestions that fit (K3): questions as partners type them — without accents, with typos,
in their own words — propose the right article of the demo's help centre first, through
/help/suggest (while a ticket is typed) and /help/search, on SQLite and on PostgreSQL. The
order comes from the search (phrase, words close together, words of the title), nothing else.
"""
import html
import re

import pytest

from tests.conftest import login

CLIENT = "client@credit-solidaire.sn"

SAVINGS_CLOSING = "Clôture mensuelle bloquée au calcul des intérêts d'épargne"
PARTNER_QUESTIONS = [
    # (what a partner types, the article that must come first)
    ("clôture mensuelle bloquée", SAVINGS_CLOSING),
    ("cloture mensuelle bloquee", SAVINGS_CLOSING),
    ("la cloture du mois est bloquee aux interets", SAVINGS_CLOSING),
    ("clotur mensuel bloqué interet epargne", SAVINGS_CLOSING),
    ("ordre des traitements de la cloture", "Clôture mensuelle : ordre des traitements"),
    ("taux interet epargne parametrage", "Paramétrer le taux et la périodicité des intérêts d'épargne"),
    ("interets epargne pas verses", "Pourquoi les intérêts d'épargne ne sont-ils pas versés ?"),
    ("tableau d'amortissement pret", "Générer le tableau d'amortissement d'un prêt"),
    ("generer echeancier du pret", "Générer le tableau d'amortissement d'un prêt"),
    ("reechelonner un credit", "Rééchelonner un crédit en difficulté"),
    ("rééchelonement credit en difficulte", "Rééchelonner un crédit en difficulté"),
    ("annuler remboursement erreur", "Annuler une opération de caisse saisie par erreur"),
    ("remboursement saisi par erreur", "Annuler une opération de caisse saisie par erreur"),
    ("penalites de retard impayes", "Calcul des pénalités de retard sur les échéances impayées"),
    ("rembourser echeance en retard", "Rembourser une échéance de crédit en retard"),
    ("remboursements pas dans l'echeancier", "Les remboursements ne s'affichent pas dans l'échéancier"),
    ("depot a terme", "Ouvrir un dépôt à terme"),
    ("compte epargne bloque", "Débloquer un compte d'épargne bloqué"),
    ("debloquer compte", "Débloquer un compte d'épargne bloqué"),
    ("releve de compte membre", "Imprimer le relevé de compte d'un membre"),
    ("mobile money pas credite", "Virement mobile money non crédité sur le compte du membre"),
    ("virement mobil money non credité", "Virement mobile money non crédité sur le compte du membre"),
    ("provision creances douteuses", "Provisionner les créances douteuses"),
    ("rapprochement bancaire", "Rapprochement bancaire des comptes de trésorerie"),
    ("exporter balance excel", "Exporter la balance générale vers un tableur"),
    ("imprimante recus caisse", "Changer l'imprimante des reçus de caisse"),
    ("journal caisse desequilibre apres cloture", "Le journal de caisse est déséquilibré après la clôture"),
    ("credit groupe solidaire", "Octroyer un crédit à un groupe solidaire"),
    ("mot de pass oublié", "Réinitialiser son mot de passe oublié"),
    ("jeton expiré synchro tablette", "Erreur « jeton expiré » pendant la synchronisation"),
    ("nouveau membre ouvrir compte epargne", "Ouvrir un compte d'épargne pour un nouveau membre"),
    # … and as they are written in a ticket's title, with the words around the question
    ("impossible de faire la clôture mensuelle, bloquée depuis hier", SAVINGS_CLOSING),
    ("notre cloture mensuelle est bloquée depuis ce matin", SAVINGS_CLOSING),
    ("comment generer l'echeancier d'un nouveau pret", "Générer le tableau d'amortissement d'un prêt"),
    ("le membre a payé par mobile money mais son compte n'est pas crédité", "Virement mobile money non crédité sur le compte du membre"),
    ("erreur jeton expiré quand l'agent synchronise sa tablette", "Erreur « jeton expiré » pendant la synchronisation"),
    ("les remboursements saisis hier ne sont pas dans l'échéancier", "Les remboursements ne s'affichent pas dans l'échéancier"),
    ("j'ai oublié mon mot de passe et je ne recois pas le mail", "Réinitialiser son mot de passe oublié"),
    ("le journal de caisse ne tombe pas juste après la cloture", "Le journal de caisse est déséquilibré après la clôture"),
    ("annuler un remboursement saisi deux fois par le caissier", "Annuler une opération de caisse saisie par erreur"),
    ("les interets de l'epargne ne sont pas versés ce trimestre", "Pourquoi les intérêts d'épargne ne sont-ils pas versés ?"),
    ("comment changer le taux d'interet des comptes d'epargne", "Paramétrer le taux et la périodicité des intérêts d'épargne"),
    ("les recus de caisse sortent illisibles sur l'imprimante", "Changer l'imprimante des reçus de caisse"),
    ("les penalites de retard sont trop elevees sur un credit", "Calcul des pénalités de retard sur les échéances impayées"),
    ("un membre veut rembourser une echeance en retard avec les penalites", "Rembourser une échéance de crédit en retard"),
    ("comment exporter la balance sous excel pour le commissaire aux comptes", "Exporter la balance générale vers un tableur"),
    ("le compte d'epargne du membre est bloque, comment le debloquer", "Débloquer un compte d'épargne bloqué"),
    ("provisions sur les creances douteuses avant la cloture", "Provisionner les créances douteuses"),
    ("ordre des traitements de la cloture de fin de mois", "Clôture mensuelle : ordre des traitements"),
    ("calcul des interets degressifs sur un pret", "Calcul des intérêts dégressifs"),
    # typos: a word no article holds is read as the nearest one
    ("remboursemnt en retard", "Rembourser une échéance de crédit en retard"),
    ("echancier", "Les remboursements ne s'affichent pas dans l'échéancier"),
    ("synchronisaton tablette", "Synchroniser la tablette d'un agent de terrain"),
    ("provisionement des creances", "Provisionner les créances douteuses"),
]


def test_the_table_is_large_enough_and_each_answer_is_in_the_demo(app, demo):
    from app.models import KbArticle

    assert len(PARTNER_QUESTIONS) >= 25
    titles = {t for (t,) in demo.session.query(KbArticle.title)}
    assert {expected for _, expected in PARTNER_QUESTIONS} <= titles


@pytest.fixture
def partner(app, demo):
    client = app.test_client()
    login(client, demo, CLIENT)
    return client


@pytest.mark.parametrize("question,expected", PARTNER_QUESTIONS)
def test_a_partners_question_is_answered_first_by_the_right_article(partner, question, expected):
    suggested = partner.get("/help/suggest", query_string={"q": question}).get_json()["articles"]
    assert suggested and suggested[0]["title"] == expected, [a["title"] for a in suggested]
    page = partner.get("/help/search", query_string={"q": question}).get_data(as_text=True)
    found = [html.unescape(re.sub(r"<[^>]+>", "", t)) for t in re.findall(r'<h2><a href="/help/articles/[^"]+">(.*?)</a></h2>', page)]
    assert found and found[0] == expected, found


ARTICLES = {  # title: body
    "Agence : compte rendu du transfert": "Chaque agence tient le compte rendu de ses réunions. Le transfert des archives se fait "
    "par l'agence elle-même ; le compte rendu du transfert est signé par le chef d'agence.",
    "Questions sur les agences": "Le compte de chaque membre reste dans son agence. Un transfert demande l'accord du chef "
    "d'agence. Le compte du membre et le transfert sont notés. Agence, compte, transfert.",
    "Transfert de compte d'une agence à l'autre": "Le transfert de compte vers une autre agence garde le numéro du membre.",
    "Procédures de sauvegarde": "Pour un transfert de compte agence par agence, suivez la procédure du siège.",
}


def test_the_phrase_as_typed_outranks_the_same_words_scattered(app, demo):
    """Four articles hold the three words. The phrase in the title comes first; the phrase in
    a body comes before titles and bodies that only scatter the words."""
    from app.models import NovaUser
    from app.services import kb, search

    writer = demo.session.query(NovaUser).filter_by(email="agent1@novalead.com").one()
    approver = demo.session.query(NovaUser).filter_by(email="superviseur@novalead.com").one()
    for title, body in ARTICLES.items():
        article = kb.create_article(writer, title=title, body=body, kind="faq", visibility="public")
        kb.change_status(writer, article, "review")
        kb.change_status(approver, article, "published")
    demo.session.commit()
    ranked = [a.title for a in search.suggest(None, "transfert de compte agence", limit=5)]
    assert ranked[0] == "Transfert de compte d'une agence à l'autre", ranked
    assert ranked.index("Procédures de sauvegarde") < min(ranked.index("Agence : compte rendu du transfert"), ranked.index("Questions sur les agences")), ranked
