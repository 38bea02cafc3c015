"""Demo knowledge base: NOVA LEAD's help centre in French (every type and visibility, one
English translation) and the wikis of two clients, written and published through the same
services as the screens. Loading it twice changes nothing."""
from app.extensions import db
from app.models import ArticleStatus, KbArticle, NovaUser, Organisation, Product, Visibility
from app.services import kb

# (key, name, description, parent key, visibility, organisations)
CATEGORIES = [
    ("start", "Premiers pas", "Connexion, comptes utilisateurs, paramètres de base.", None, Visibility.PUBLIC, []),
    ("credit", "Crédit et remboursements", "Octroi, échéanciers, remboursements et impayés.", None, Visibility.PUBLIC, []),
    ("savings", "Épargne et comptes", "Ouverture de comptes, dépôts, retraits, intérêts.", None, Visibility.PUBLIC, []),
    ("accounting", "Comptabilité et clôtures", "Journaux, clôtures journalières et mensuelles, états.", None, Visibility.PARTNERS, []),
    ("mobile", "NOVA Mobile Agent", "L'application des agents de terrain.", None, Visibility.PUBLIC, []),
    ("sync", "Synchronisation", "Envoi et réception des données des tablettes.", "mobile", Visibility.PUBLIC, []),
    ("releases", "Notes de version", "Nouveautés et corrections de chaque version.", None, Visibility.PUBLIC, []),
    ("internal", "Procédures internes du support", "Réservé à l'équipe NOVA LEAD.", None, Visibility.INTERNAL, []),
    ("pilot", "Programme pilote BCEAO 2027", "Documents du pilote des nouveaux états réglementaires.", None, Visibility.ORGANISATIONS, ["Crédit Solidaire du Sahel", "Fonds Épargne Plus"]),
]

# (title, category, kind, product code, version, visibility, organisations, tags, summary, body)
ARTICLES = [
    ("Réinitialiser son mot de passe oublié", "start", "faq", None, None, Visibility.PUBLIC, [], "mot de passe, connexion, compte",
     "Recevoir un lien de réinitialisation par e-mail.",
     "Sur la page de connexion, choisissez **Mot de passe oublié ?**, saisissez votre adresse e-mail professionnelle "
     "puis ouvrez le lien reçu. Le lien est valable une heure.\n\n## Je ne reçois pas l'e-mail\n\n"
     "- Vérifiez le dossier des courriers indésirables.\n- Demandez à l'administrateur de votre institution de vérifier votre adresse.\n"),
    ("Activer la double authentification", "start", "guide", None, None, Visibility.PUBLIC, [], "sécurité, 2FA, connexion",
     "Protéger son compte avec un code à usage unique.",
     "La double authentification demande, en plus du mot de passe, un code à 6 chiffres reçu par e-mail ou généré par une "
     "application d'authentification.\n\n1. Ouvrez **Sécurité du compte**.\n2. Choisissez *Application d'authentification*.\n"
     "3. Scannez le QR code puis saisissez le code affiché.\n4. Gardez vos codes de secours en lieu sûr.\n"),
    ("Créer les utilisateurs d'une agence", "start", "guide", "NOVA-CBS", "5.4", Visibility.PARTNERS, [], "utilisateurs, agence, droits",
     "Ajouter les caissiers et agents de crédit d'une nouvelle agence.",
     "Dans **Paramétrage › Utilisateurs**, créez chaque utilisateur avec son profil (caissier, agent de crédit, chef d'agence). "
     "Rattachez-le à son agence : il ne verra que les comptes de celle-ci.\n"),
    ("Rembourser une échéance de crédit en retard", "credit", "guide", "NOVA-CBS", "5.4", Visibility.PUBLIC, [], "remboursement, échéance, pénalités",
     "Saisir un remboursement partiel ou total avec les pénalités de retard.",
     "Ouvrez le dossier de crédit, onglet **Échéancier**. Les échéances en retard apparaissent en rouge avec leurs pénalités.\n\n"
     "## Remboursement partiel\n\nLe montant est imputé d'abord aux pénalités, puis aux intérêts, puis au capital.\n\n"
     "## Remboursement anticipé\n\nChoisissez *Remboursement anticipé* : NOVA recalcule les intérêts restants.\n"),
    ("Les remboursements ne s'affichent pas dans l'échéancier", "credit", "incident", "NOVA-CBS", "5.4.1", Visibility.PUBLIC, [], "remboursement, échéancier, batch",
     "Le traitement de nuit n'a pas imputé les remboursements du jour.",
     "**Symptôme** : un remboursement saisi en caisse n'apparaît pas dans l'échéancier le lendemain.\n\n"
     "**Cause** : le traitement de nuit s'est arrêté avant l'imputation (clôture journalière incomplète).\n\n"
     "**Solution** : relancez la clôture journalière depuis **Traitements › Clôture du jour**, puis vérifiez le journal "
     "des traitements. La version 5.4.2 corrige l'arrêt du traitement.\n"),
    ("Calcul des intérêts dégressifs", "credit", "faq", "NOVA-CBS", None, Visibility.PUBLIC, [], "intérêts, taux, crédit",
     "Comment NOVA calcule les intérêts sur capital restant dû.",
     "Avec la méthode dégressive, les intérêts de chaque échéance sont calculés sur le capital restant dû. "
     "Le taux saisi dans le produit de crédit est annuel ; NOVA le ramène à la périodicité des échéances.\n"),
    ("Ouvrir un compte d'épargne pour un nouveau membre", "savings", "guide", "NOVA-CBS", "5.4", Visibility.PUBLIC, [], "épargne, compte, adhésion",
     "Adhésion, pièces justificatives et premier dépôt.",
     "Créez d'abord la fiche du membre (pièce d'identité, photo, signature), puis ouvrez le compte d'épargne dans l'onglet "
     "**Comptes**. Le premier dépôt active le compte.\n"),
    ("Pourquoi les intérêts d'épargne ne sont-ils pas versés ?", "savings", "faq", "NOVA-CBS", None, Visibility.PUBLIC, [], "épargne, intérêts",
     "Les intérêts sont capitalisés à la clôture du trimestre.",
     "Les intérêts créditeurs sont calculés chaque jour mais versés lors de la clôture trimestrielle. Un compte bloqué ne "
     "reçoit pas d'intérêts.\n"),
    ("Clôture mensuelle : ordre des traitements", "accounting", "guide", "NOVA-CBS", "5.4", Visibility.PARTNERS, [], "clôture, comptabilité, mois",
     "Les étapes de la clôture de fin de mois, dans l'ordre.",
     "1. Clôture journalière du dernier jour ouvré.\n2. Calcul des provisions sur créances douteuses.\n"
     "3. Génération des écritures d'intérêts courus.\n4. Édition de la balance et du grand livre.\n5. Clôture du mois.\n\n"
     "> Une clôture mensuelle ne peut pas être annulée : vérifiez la balance avant l'étape 5.\n"),
    ("Le journal de caisse est déséquilibré après la clôture", "accounting", "incident", "NOVA-CBS", "5.3", Visibility.PARTNERS, [], "journal, caisse, clôture",
     "Une opération annulée après la clôture laisse un écart.",
     "Contrôlez les annulations postérieures à la clôture dans **États › Journal des annulations**. Passez l'écriture de "
     "régularisation proposée par NOVA, puis rééditez le journal.\n"),
    ("Synchroniser la tablette d'un agent de terrain", "sync", "guide", "NOVA-MOB", "2.1", Visibility.PUBLIC, [], "synchronisation, tablette, collecte",
     "Envoyer les collectes de la journée et recevoir les nouveaux dossiers.",
     "Connectez la tablette au réseau (Wi-Fi ou 4G), ouvrez **Synchroniser** et attendez la fin de l'envoi. "
     "Les collectes envoyées passent en vert.\n"),
    ("Erreur « jeton expiré » pendant la synchronisation", "sync", "incident", "NOVA-MOB", "2.0", Visibility.PUBLIC, [], "synchronisation, erreur, jeton",
     "La session de l'agent a expiré : reconnectez-vous avant de synchroniser.",
     "**Symptôme** : le message *jeton expiré* s'affiche et rien n'est envoyé.\n\n**Solution** : déconnectez-vous de "
     "l'application, reconnectez-vous avec Internet, puis relancez la synchronisation. Aucune collecte n'est perdue : elles "
     "restent sur la tablette jusqu'à l'envoi.\n"),
    ("NOVA Microfinance 5.4.2 : nouveautés et corrections", "releases", "release_note", "NOVA-CBS", "5.4.2", Visibility.PUBLIC, [], "version, nouveautés",
     "Clôture journalière plus fiable, états BCEAO mis à jour.",
     "## Nouveautés\n\n- Export des échéanciers au format tableur.\n- États réglementaires BCEAO 2026.\n\n## Corrections\n\n"
     "- Le traitement de nuit ne s'arrête plus sur un remboursement sans agence.\n- Arrondis des pénalités corrigés.\n"),
    ("NOVA Mobile Agent 2.1.0 : nouveautés", "releases", "release_note", "NOVA-MOB", "2.1.0", Visibility.PUBLIC, [], "version, mobile",
     "Mode hors ligne étendu et signature du membre sur la tablette.",
     "- Collecte hors ligne jusqu'à 7 jours.\n- Signature du membre à l'écran.\n- Synchronisation reprise après coupure.\n"),
    ("Diagnostiquer une base bloquée (verrous Oracle)", "internal", "incident", "NOVA-CBS", None, Visibility.INTERNAL, [], "oracle, verrous, niveau 3",
     "Procédure interne de niveau 3.",
     "Identifiez les sessions bloquantes avec la requête du dossier *outils-n3*, prévenez le client avant toute action, "
     "puis tuez la session bloquante. Notez l'incident dans le ticket.\n"),
    ("Escalader un ticket vers le niveau 2", "internal", "guide", None, None, Visibility.INTERNAL, [], "escalade, support, procédure",
     "Quand et comment passer la main.",
     "Escaladez quand la solution demande un accès à la base du client ou une correction du paramétrage comptable. "
     "Résumez ce qui a été tenté dans une note interne.\n"),
    ("Calendrier du pilote des nouveaux états BCEAO", "pilot", "guide", "NOVA-REP", "3.0", Visibility.ORGANISATIONS, ["Crédit Solidaire du Sahel", "Fonds Épargne Plus"], "bceao, pilote, reporting",
     "Étapes et dates du pilote pour les institutions participantes.",
     "Le pilote commence en janvier 2027 : installation de NOVA Reporting 3.1 en recette, puis double production des états "
     "pendant deux mois.\n"),
    ("Paramétrer les états de la commission bancaire", "accounting", "guide", "NOVA-REP", "3.0.1", Visibility.ORGANISATIONS, ["Caisse Populaire de l'Avenir", "Baobab Microcrédit"], "reporting, états, commission bancaire",
     "Réservé aux institutions ayant souscrit le module réglementaire.",
     "Dans NOVA Reporting, ouvrez **Paramètres › États réglementaires**, choisissez le référentiel de votre pays puis "
     "associez chaque poste du plan comptable à une ligne d'état.\n"),
]

TRANSLATION = ("Resetting a forgotten password", "Réinitialiser son mot de passe oublié",
               "On the sign-in page choose **Forgot password?**, type your work e-mail address and open the link you receive. "
               "The link is valid for one hour.\n")

# (organisation, title, tags, body)
WIKI = [
    ("Crédit Solidaire du Sahel", "Contacts et horaires de l'équipe informatique", "contacts, astreinte",
     "Responsable informatique : Ibrahima Fall. Astreinte le samedi de 8 h à 12 h.\n"),
    ("Crédit Solidaire du Sahel", "Paramétrage spécifique des crédits de campagne agricole", "crédit, agricole, paramétrage",
     "Les crédits de campagne ont un différé de 6 mois et un remboursement in fine après la récolte.\n"),
    ("Mutuelle Kaya", "Procédure de clôture propre à Mutuelle Kaya", "clôture, procédure",
     "La clôture mensuelle est lancée par le siège de Ouagadougou après validation des trois agences.\n"),
]


def load_demo_kb():
    if db.session.query(KbArticle.id).first() is not None:
        return "knowledge base already present"
    writer = db.session.query(NovaUser).filter_by(email="agent1@novalead.com").one()
    approver = db.session.query(NovaUser).filter_by(email="superviseur@novalead.com").one()
    orgs = {o.name: o for o in db.session.query(Organisation)}
    products = {p.code: p for p in db.session.query(Product)}
    categories = {}
    for key, name, description, parent, visibility, org_names in CATEGORIES:
        categories[key] = kb.create_category(
            writer, name=name, description=description, parent_id=categories[parent].id if parent else None,
            position=len(categories), visibility=visibility, organisation_ids=[orgs[n].id for n in org_names],
        )
    published = {}
    for index, (title, cat, kind, product, version, visibility, org_names, tags, summary, body) in enumerate(ARTICLES):
        article = kb.create_article(
            writer, title=title, body=body, summary=summary, kind=kind, category_id=categories[cat].id,
            product_id=products[product].id if product else None, product_version=version, tags=tags, visibility=visibility,
            organisation_ids=[orgs[n].id for n in org_names],
        )
        kb.change_status(writer, article, ArticleStatus.REVIEW)
        kb.change_status(approver, article, ArticleStatus.PUBLISHED)
        article.view_count = (len(ARTICLES) - index) * 7  # a plausible "most read" order
        published[title] = article
    title, original, body = TRANSLATION
    english = kb.create_article(writer, title=title, body=body, kind="faq", category_id=categories["start"].id, language="en",
                                visibility=Visibility.PUBLIC, translation_of_id=published[original].id, tags="password, sign-in")
    kb.change_status(approver, english, ArticleStatus.PUBLISHED)
    draft = kb.create_article(writer, title="Importer les membres depuis un fichier Excel", body="Brouillon en cours de rédaction.",
                              kind="guide", category_id=categories["savings"].id, visibility=Visibility.PUBLIC)
    kb.change_status(writer, draft, ArticleStatus.REVIEW)
    for org_name, title, tags, body in WIKI:
        page = kb.create_article(writer, title=title, body=body, tags=tags, wiki_organisation_id=orgs[org_name].id)
        kb.change_status(approver, page, ArticleStatus.PUBLISHED)
    db.session.commit()
    return f"{db.session.query(KbArticle).count()} knowledge-base articles"
