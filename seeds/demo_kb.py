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
    ("Clôture mensuelle bloquée au calcul des intérêts d'épargne", "savings", "faq", "NOVA-CBS", "5.4", Visibility.PUBLIC, [], "clôture, intérêts, épargne, blocage",
     "La clôture du mois s'arrête à l'étape « Intérêts créditeurs » : un produit d'épargne sans taux ou un compte sans agence.",
     "**Symptôme** : la clôture mensuelle reste bloquée à l'étape *Calcul des intérêts d'épargne* ; le journal des "
     "traitements indique « taux introuvable » ou « compte sans agence ».\n\n"
     "**Cause** : un produit d'épargne a été créé sans barème de taux, ou un compte d'épargne a été transféré sans agence "
     "de rattachement. Le calcul des intérêts créditeurs s'interrompt sur le premier compte en anomalie.\n\n"
     "**Solution** :\n\n1. Ouvrez **États › Comptes d'épargne en anomalie** et corrigez chaque compte listé.\n"
     "2. Dans **Paramétrage › Produits d'épargne**, vérifiez que chaque produit a un taux pour la période.\n"
     "3. Relancez la clôture mensuelle depuis l'étape bloquée : les étapes déjà faites ne sont pas rejouées.\n"),
    ("Paramétrer le taux et la périodicité des intérêts d'épargne", "savings", "guide", "NOVA-CBS", "5.4", Visibility.PUBLIC, [], "épargne, taux, intérêts, paramétrage",
     "Barème de taux par produit, versement mensuel, trimestriel ou annuel.",
     "Pour fixer ou changer le taux des comptes d'épargne, ouvrez le produit dans **Paramétrage › Produits d'épargne**, onglet **Rémunération**. Saisissez le taux "
     "annuel, le solde minimum rémunéré et la périodicité du versement (mensuelle, trimestrielle ou annuelle). Un nouveau "
     "taux s'applique à partir de sa date d'effet ; les intérêts déjà courus gardent l'ancien taux.\n"),
    ("Générer le tableau d'amortissement d'un prêt", "credit", "guide", "NOVA-CBS", "5.4", Visibility.PUBLIC, [], "échéancier, amortissement, prêt",
     "Échéancier constant ou dégressif, différé, périodicité des échéances.",
     "Dans le dossier de crédit, onglet **Échéancier**, choisissez la méthode (annuités constantes ou amortissement "
     "constant), la périodicité et l'éventuel différé, puis **Générer**. L'échéancier peut être imprimé pour le membre ou "
     "exporté au format tableur. Il ne peut plus être régénéré après le premier décaissement.\n"),
    ("Rééchelonner un crédit en difficulté", "credit", "guide", "NOVA-CBS", "5.4", Visibility.PARTNERS, [], "rééchelonnement, restructuration, impayés",
     "Allonger la durée ou reporter des échéances après accord du comité.",
     "Le rééchelonnement se fait depuis le dossier de crédit, **Actions › Rééchelonner**. Indiquez la nouvelle durée, la date "
     "de la prochaine échéance et la référence de la décision du comité de crédit. L'ancien échéancier est archivé ; le prêt "
     "est marqué *restructuré* dans les états de la banque centrale.\n"),
    ("Annuler une opération de caisse saisie par erreur", "credit", "faq", "NOVA-CBS", None, Visibility.PUBLIC, [], "remboursement, dépôt, annulation, caisse",
     "Un remboursement ou un dépôt en double : extourne le jour même, écriture de régularisation ensuite.",
     "Le jour de la saisie, le caissier annule le remboursement depuis **Caisse › Opérations du jour** : l'échéance redevient "
     "due. Après la clôture journalière, seul le chef d'agence peut passer une extourne, qui apparaît dans le journal des "
     "annulations.\n"),
    ("Calcul des pénalités de retard sur les échéances impayées", "credit", "faq", "NOVA-CBS", None, Visibility.PUBLIC, [], "pénalités, retard, impayés",
     "Taux de pénalité journalier, délai de grâce et plafond.",
     "Les pénalités courent à partir de la fin du délai de grâce du produit de crédit, au taux journalier paramétré, sur le "
     "capital échu impayé. Elles sont plafonnées selon le paramétrage du produit et peuvent être remises par le comité.\n"),
    ("Ouvrir un dépôt à terme", "savings", "guide", "NOVA-CBS", "5.4", Visibility.PUBLIC, [], "dépôt à terme, DAT, placement",
     "Durée, taux garanti, renouvellement automatique à l'échéance.",
     "Depuis la fiche du membre, **Comptes › Nouveau dépôt à terme** : choisissez la durée, le montant et le compte d'épargne "
     "qui reçoit les intérêts. À l'échéance, le dépôt est renouvelé automatiquement ou versé sur le compte, selon l'option.\n"),
    ("Débloquer un compte d'épargne bloqué", "savings", "faq", "NOVA-CBS", None, Visibility.PUBLIC, [], "compte, blocage, opposition",
     "Opposition, décès, dormance : qui peut lever le blocage.",
     "Un compte est bloqué par une opposition, une succession ou la dormance. Le chef d'agence lève le blocage dans "
     "**Comptes › Blocages** en indiquant le motif ; un compte dormant est réactivé par un dépôt du titulaire.\n"),
    ("Imprimer le relevé de compte d'un membre", "savings", "faq", "NOVA-CBS", None, Visibility.PUBLIC, [], "relevé, impression, compte",
     "Relevé sur une période, avec le solde de début et de fin.",
     "Ouvrez la fiche du membre, onglet **Comptes**, puis **Relevé**. Choisissez la période ; le relevé indique chaque "
     "opération, le solde de début et le solde de fin, et peut être imprimé ou envoyé en PDF.\n"),
    ("Virement mobile money non crédité sur le compte du membre", "savings", "incident", "NOVA-CBS", "5.4", Visibility.PUBLIC, [], "mobile money, virement, rapprochement",
     "Le paiement a été débité chez l'opérateur mais n'apparaît pas dans NOVA.",
     "**Symptôme** : le membre a payé par mobile money, l'opérateur confirme, mais le compte n'est pas crédité.\n\n"
     "**Cause** : la notification de l'opérateur a été reçue sans numéro de compte reconnu.\n\n"
     "**Solution** : ouvrez **Trésorerie › Mobile money › Opérations en suspens**, retrouvez l'opération par sa référence "
     "et affectez-la au bon compte.\n"),
    ("Provisionner les créances douteuses", "accounting", "guide", "NOVA-CBS", "5.4", Visibility.PARTNERS, [], "provisions, créances, impayés",
     "Classement des encours par ancienneté d'impayé et taux de provision.",
     "Le calcul des provisions classe chaque prêt selon l'ancienneté de son premier impayé et applique le taux du barème "
     "réglementaire. Lancez-le avant la clôture mensuelle depuis **Comptabilité › Provisions**, contrôlez l'état puis validez "
     "les écritures.\n"),
    ("Rapprochement bancaire des comptes de trésorerie", "accounting", "guide", "NOVA-CBS", "5.4", Visibility.PARTNERS, [], "rapprochement, banque, trésorerie",
     "Pointer le relevé de la banque avec les écritures de NOVA.",
     "Importez le relevé de la banque (format CSV ou MT940) dans **Trésorerie › Rapprochement**. NOVA pointe "
     "automatiquement les lignes de même montant et de même date ; pointez le reste à la main puis éditez l'état de "
     "rapprochement.\n"),
    ("Exporter la balance générale vers un tableur", "accounting", "faq", "NOVA-CBS", None, Visibility.PARTNERS, [], "balance, export, tableur, excel",
     "La balance et le grand livre au format tableur.",
     "Dans **États › Balance générale**, choisissez la période et les comptes, puis **Exporter** : le fichier s'ouvre dans "
     "Excel ou LibreOffice avec une ligne par compte.\n"),
    ("Changer l'imprimante des reçus de caisse", "start", "faq", "NOVA-CBS", None, Visibility.PUBLIC, [], "imprimante, reçus, caisse",
     "Choisir l'imprimante thermique du poste de caisse.",
     "Sur le poste du caissier, ouvrez **Préférences › Impression** et choisissez l'imprimante des reçus. Si les reçus "
     "sortent avec des caractères illisibles, choisissez le pilote *ESC/POS* fourni par NOVA.\n"),
    ("Octroyer un crédit à un groupe solidaire", "credit", "guide", "NOVA-CBS", "5.4", Visibility.PUBLIC, [], "groupe solidaire, caution, octroi",
     "Créer le groupe, ses membres et la caution solidaire.",
     "Créez d'abord le groupe et rattachez-y ses membres, puis ouvrez un dossier de crédit de groupe : chaque membre reçoit "
     "sa part et la caution solidaire est enregistrée automatiquement.\n"),
    ("NOVA Microfinance 5.4.0 : nouveautés et corrections", "releases", "release_note", "NOVA-CBS", "5.4.0", Visibility.PUBLIC, [], "version, nouveautés, corrections",
     "Épargne, crédit, clôtures et caisse : ce qui change avec la version 5.4.0.",
     "## Nouveautés\n\n- Épargne : le taux d'un produit peut changer en cours de mois ; les intérêts sont calculés au prorata.\n"
     "- Crédit : nouvel écran des échéances impayées par agent de crédit, avec les pénalités du jour.\n"
     "- Caisse : le journal de caisse affiche les annulations de la journée.\n"
     "- Mobile money : les paiements reçus de l'opérateur sont rapprochés chaque heure.\n\n"
     "## Corrections\n\n- Un compte bloqué pour opposition n'empêche plus l'édition du relevé.\n"
     "- Le calcul mensuel des provisions ne compte plus deux fois les prêts rééchelonnés.\n"
     "- La clôture journalière n'est plus bloquée par une caisse fermée sans billetage.\n"
     "- L'export de la balance respecte le séparateur décimal du poste.\n"
     "- Les remboursements anticipés recalculent l'échéancier sans créer d'échéance à zéro.\n"),
    ("Guide de fin de mois pour le responsable comptable", "accounting", "guide", "NOVA-CBS", "5.4", Visibility.PARTNERS, [], "fin de mois, comptabilité, contrôles",
     "Les contrôles à faire chaque mois, de la caisse aux états réglementaires.",
     "Chaque mois, le responsable comptable vérifie que toutes les caisses sont fermées et que le journal de caisse est "
     "équilibré. Il contrôle ensuite les comptes d'épargne en anomalie, puis les prêts dont les échéances sont impayées "
     "depuis plus de 30 jours. Une opération bloquée en attente de validation doit être validée ou rejetée avant la fin "
     "du mois. Après le calcul des intérêts courus et des provisions, il édite la balance, la rapproche des relevés "
     "bancaires et transmet les états mensuels à la direction. La clôture elle-même est décrite dans l'article sur l'ordre "
     "des traitements ; en cas d'arrêt, le journal des traitements indique l'étape et le compte en cause.\n"),
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
