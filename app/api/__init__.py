"""The REST API's resources, registered on the AppBuilder by the application factory."""
from app.api.directory import OrganisationApi, ProductApi
from app.api.directory_sync import DirectorySyncApi
from app.api.people import KbArticleApi, UserApi
from app.api.tickets import AttachmentApi, TicketApi, TicketMessageApi


def register_apis(appbuilder):
    for api in (OrganisationApi, ProductApi, TicketApi, TicketMessageApi, AttachmentApi, UserApi, KbArticleApi, DirectorySyncApi):
        appbuilder.add_api(api)
