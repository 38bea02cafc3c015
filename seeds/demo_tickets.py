"""About 200 demo tickets over the last 90 days, made through the real services with the
clock set back, so that every screen has something true to show: every status, type,
priority and channel, replies, internal notes, attachments, history, merges, sub-requests,
and some tickets late against their SLA. Loading twice changes nothing."""
import io
import random
from datetime import timedelta

from app.extensions import db
from app.models import Channel, NovaUser, Organisation, Priority, Product, Queue, RequestType, StatusCategory, Ticket, TicketStatus
from app.security import roles
from app.services import clock, satisfaction, ticket_links, tickets

TITLES = [
    ("Erreur lors de la clôture journalière", "La clôture de fin de journée s'arrête à l'étape « calcul des intérêts » avec le message ERR-2041."),
    ("Écart dans l'état des remboursements", "L'état des remboursements du mois ne correspond pas au grand livre : écart de 125 000 FCFA."),
    ("Comment paramétrer un nouveau produit d'épargne ?", "Nous souhaitons créer un produit d'épargne à terme à 6 mois. Quelle est la marche à suivre ?"),
    ("Formation des nouveaux agents de crédit", "Trois nouveaux agents arrivent le mois prochain ; pouvez-vous organiser une session de formation ?"),
    ("Mise à jour vers la version 5.4", "Quand pouvons-nous planifier la mise à jour vers la 5.4 et quelles sont les nouveautés ?"),
    ("Démonstration du module mobile", "Notre direction aimerait voir une démonstration de NOVA Mobile Agent."),
    ("Offre pour une agence supplémentaire", "Merci de nous transmettre une offre technique et financière pour l'ouverture d'une nouvelle agence."),
    ("Lenteur de l'application en agence", "Depuis lundi, l'écran de saisie des versements met plus de 30 secondes à s'afficher."),
    ("Impossible d'imprimer le reçu de versement", "L'impression du reçu échoue sur les postes Windows 11 de l'agence centrale."),
    ("Rapport BCEAO : colonne manquante", "Le rapport réglementaire trimestriel n'affiche plus la colonne des encours restructurés."),
    ("Synchronisation des tablettes terrain", "Les tablettes des agents terrain ne synchronisent plus les collectes depuis hier soir."),
    ("Demande de résiliation du module portail", "Nous souhaitons résilier l'abonnement au portail client à la fin du trimestre."),
    ("Mot de passe d'un utilisateur bloqué", "Le compte du caissier de l'agence Nord est bloqué après plusieurs tentatives."),
    ("Calcul des pénalités de retard", "Les pénalités de retard semblent calculées sur le capital initial et non sur le capital restant dû."),
]
REPLIES = [
    "Bonjour, merci pour votre message. Pouvez-vous nous envoyer une capture d'écran de l'erreur ?",
    "Nous avons reproduit le problème et une correction est en cours de test.",
    "La correction est disponible : merci de redémarrer le service et de nous confirmer.",
    "Voici la procédure détaillée, étape par étape, dans le guide joint.",
]
CLIENT_REPLIES = ["Voici la capture demandée.", "Merci, c'est corrigé de notre côté.", "Le problème persiste sur un poste.", "Parfait, merci pour votre aide."]
RATING_COMMENTS = {
    5: ["Réponse rapide et claire, merci !", "Parfait, problème réglé dans la journée.", ""],
    4: ["Bonne prise en charge.", "Résolu, un peu d'attente au début.", ""],
    3: ["Résolu, mais il a fallu relancer.", ""],
    2: ["Trop long pour un problème bloquant.", "Plusieurs échanges avant d'être compris."],
    1: ["Aucune nouvelle pendant trois jours.", "Le problème est revenu le lendemain."],
}
NOTES = ["Vérifier les journaux du serveur de l'agence.", "Client sensible : prévenir le commercial.", "Probablement lié au correctif 5.4.1."]


def _png(seed):
    from PIL import Image

    image = Image.new("RGB", (320, 200), ((seed * 37) % 255, (seed * 91) % 255, 180))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def _staff(role):
    role_filter = NovaUser.roles.any(name=role)
    return db.session.query(NovaUser).filter(role_filter, NovaUser.active.is_(True)).order_by(NovaUser.id).all()


def _status(category):
    return db.session.query(TicketStatus).filter_by(category=category).order_by(TicketStatus.position).all()


def _fill_queues():
    queues = {q.support_level: q for q in db.session.query(Queue).all()}
    agents = _staff(roles.AGENT)
    for agent in agents:
        queue = queues.get(agent.support_level or 1)
        if queue is not None and agent not in queue.members:
            queue.members.append(agent)


def load_demo_tickets(count=200, seed=2026):
    if db.session.query(Ticket.id).first() is not None:
        return "Tickets already present: demo tickets not loaded."
    from app.services import notifications

    with notifications.silenced():  # three months of history: nobody is mailed about it
        note = _load_tickets(count, seed)
    from seeds.demo_mail import load_demo_mail

    return f"{note} {load_demo_mail()}"


def _load_tickets(count, seed):
    rng = random.Random(seed)
    _fill_queues()
    db.session.flush()
    agents = _staff(roles.AGENT)
    supervisor = _staff(roles.SUPERVISOR)[0]
    partners = db.session.query(Organisation).filter(Organisation.kind != "vendor").order_by(Organisation.id).all()
    types = db.session.query(RequestType).order_by(RequestType.position).all()
    products = db.session.query(Product).all()
    priorities = db.session.query(Priority).order_by(Priority.position).all()
    now = clock.now()
    made = []
    for index in range(count):
        organisation = partners[index % len(partners)]
        people = [p for p in organisation.members if p.active]
        opened = now - timedelta(days=rng.uniform(0, 90), hours=rng.uniform(0, 8))
        title, body = TITLES[index % len(TITLES)]
        channel = rng.choice(Channel.ALL)
        requester = rng.choice(people) if people else None
        by_staff = channel != Channel.WEB or requester is None  # phone, e-mail, chat, API: logged by an agent
        actor = rng.choice(agents) if by_staff else requester
        with clock.frozen(opened):
            ticket = tickets.create_ticket(
                actor,
                title=title,
                body=body,
                type_id=types[index % len(types)].id,
                product_id=rng.choice(products).id,
                organisation_id=organisation.id,
                requester_id=requester.id if requester else None,
                priority_id=rng.choice(priorities).id,
                channel=channel if by_staff else Channel.WEB,
                files=[(f"capture-{index}.png", _png(index))] if index % 7 == 0 else (),
            )
        made.append(ticket)
        _live_a_little(rng, ticket, opened, now, agents, supervisor, requester)
    _link_some(made, supervisor)
    db.session.commit()
    return f"Demo tickets ready: {len(made)}."


def _live_a_little(rng, ticket, opened, now, agents, supervisor, requester):
    """Replies, notes and status changes at plausible moments after creation."""
    fate = rng.random()
    if fate < 0.12 and (now - opened).days > 2:
        return  # never answered: some of these are late against their SLA
    moment = opened + timedelta(hours=rng.uniform(0.2, 30))
    if moment > now:
        return
    agent = ticket.assignees[0] if ticket.assignees else rng.choice(agents)
    with clock.frozen(moment):
        tickets.add_message(agent, ticket, rng.choice(REPLIES))
        if rng.random() < 0.4:
            tickets.add_message(agent, ticket, rng.choice(NOTES), internal=True)
        if rng.random() < 0.15:
            tickets.escalate(supervisor, ticket)
    if (now - opened).days > 12 and rng.random() < 0.85:  # older work is mostly done
        steps = rng.choice([["resolved"], ["resolved", "closed"], ["pending", "client", "resolved", "closed"]])
    else:
        steps = rng.choice([["pending"], ["pending", "client"], ["resolved"], ["resolved", "closed"], []])
    for step in steps:
        moment += timedelta(hours=rng.uniform(1, 48))
        if moment > now:
            break
        with clock.frozen(moment):
            if step == "client" and requester is not None:
                tickets.add_message(requester, ticket, rng.choice(CLIENT_REPLIES))
            elif step in ("pending", "resolved", "closed"):
                target = _status(step)[0]
                if target in tickets.allowed_statuses(agent, ticket):
                    tickets.change_status(agent, ticket, target.id)
    moment += timedelta(hours=rng.uniform(1, 24))
    if requester is not None and moment < now and satisfaction.can_rate(requester, ticket) and rng.random() < 0.6:
        score = rng.choices([5, 4, 3, 2, 1], weights=[40, 30, 15, 10, 5])[0]
        with clock.frozen(moment):
            satisfaction.rate_ticket(requester, ticket, score, rng.choice(RATING_COMMENTS[score]))


def _link_some(made, supervisor):
    """A few merged duplicates, sub-requests and related tickets, within one organisation."""
    by_org = {}
    for ticket in made:
        by_org.setdefault(ticket.organisation_id, []).append(ticket)
    for group in by_org.values():
        active = [t for t in group if t.status_category in StatusCategory.ACTIVE and not t.merged_into_id]
        if len(active) >= 4:
            with clock.frozen(max(active[0].created_on, active[1].created_on) + timedelta(hours=1)):
                ticket_links.merge(supervisor, active[1], active[0].number)
            with clock.frozen(max(active[0].created_on, active[2].created_on) + timedelta(hours=2)):
                ticket_links.set_parent(supervisor, active[2], active[0].number)
            with clock.frozen(max(active[0].created_on, active[3].created_on) + timedelta(hours=3)):
                ticket_links.link_related(supervisor, active[3], active[0].number)
