"""Views of the desk feature."""

from flask import Blueprint

bp = Blueprint("desk", __name__, url_prefix="/desk")
