"""Forms of the pages NovaDesk writes itself (FAB generates the others)."""
from flask_appbuilder.forms import DynamicForm
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget


class LoginForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail"), validators=[DataRequired(), Length(max=320)])
    password = PasswordField(_l("Mot de passe"), validators=[DataRequired(), Length(max=256)])


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code de vérification"),
        validators=[DataRequired(), Length(min=6, max=32)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True},
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail"), validators=[DataRequired(), Email(), Length(max=320)])


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("Nouveau mot de passe"), validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField(
        _l("Confirmez le mot de passe"),
        validators=[DataRequired(), EqualTo("password", message=_l("Les deux mots de passe diffèrent."))],
    )


class AccountRequestForm(FlaskForm):
    first_name = StringField(_l("Prénom"), validators=[DataRequired(), Length(max=64)])
    last_name = StringField(_l("Nom"), validators=[DataRequired(), Length(max=64)])
    email = EmailField(_l("Adresse e-mail professionnelle"), validators=[DataRequired(), Email(), Length(max=320)])
    organisation_name = StringField(_l("Organisation (institution de microfinance)"), validators=[DataRequired(), Length(max=200)])
    phone = StringField(_l("Téléphone"), validators=[Optional(), Length(max=50), Regexp(r"^[0-9 +().-]*$", message=_l("Numéro de téléphone invalide."))])
    message = TextAreaField(_l("Message (facultatif)"), validators=[Optional(), Length(max=2000)])
    password = PasswordField(_l("Mot de passe"), validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField(
        _l("Confirmez le mot de passe"),
        validators=[DataRequired(), EqualTo("password", message=_l("Les deux mots de passe diffèrent."))],
    )
    # Left empty by people, filled by bots: no outside captcha needed.
    website = StringField(_l("Site web"), validators=[Optional()], render_kw={"tabindex": "-1", "autocomplete": "off"})


class EnableTotpForm(FlaskForm):
    code = StringField(_l("Code affiché par l'application"), validators=[DataRequired(), Length(min=6, max=6)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class DisableTotpForm(FlaskForm):
    code = StringField(_l("Code actuel ou code de secours"), validators=[DataRequired(), Length(min=6, max=32)],
                       render_kw={"autocomplete": "one-time-code"})


class EmailFactorForm(FlaskForm):
    enabled = BooleanField(_l("Recevoir un code par e-mail à chaque nouvelle connexion"))


LANGUAGE_CHOICES = [("fr", "Français"), ("en", "English")]


def timezone_choices():
    from zoneinfo import available_timezones

    return [(name, name) for name in sorted(available_timezones()) if "/" in name and not name.startswith(("Etc/", "SystemV/"))]


class ChangePasswordForm(DynamicForm):
    current_password = PasswordField(_l("Mot de passe actuel"), validators=[DataRequired(), Length(max=256)])
    password = PasswordField(_l("Nouveau mot de passe"), validators=[DataRequired(), Length(max=256)],
                             description=_l("Mêlez lettres et chiffres ou symboles."))
    conf_password = PasswordField(
        _l("Confirmez le mot de passe"),
        validators=[DataRequired(), EqualTo("password", message=_l("Les deux mots de passe diffèrent."))],
    )


class SetPasswordForm(DynamicForm):
    password = PasswordField(_l("Nouveau mot de passe"), validators=[DataRequired(), Length(max=256)])
    conf_password = PasswordField(
        _l("Confirmez le mot de passe"),
        validators=[DataRequired(), EqualTo("password", message=_l("Les deux mots de passe diffèrent."))],
    )


class PreferencesForm(DynamicForm):  # FAB's form base: its form views call `refresh()`
    first_name = StringField(_l("Prénom"), validators=[DataRequired(), Length(max=64)])
    last_name = StringField(_l("Nom"), validators=[DataRequired(), Length(max=64)])
    phone = StringField(_l("Téléphone"), validators=[Optional(), Length(max=50)])
    locale = SelectField(_l("Langue"), choices=LANGUAGE_CHOICES)
    timezone = SelectField(_l("Fuseau horaire"), choices=timezone_choices())
    # The optional e-mails this person receives; choices depend on the person (staff see more).
    notifications = SelectMultipleField(
        _l("E-mails que je reçois"),
        choices=[],
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        description=_l("Les codes de connexion et les messages sur votre compte sont toujours envoyés."),
    )
