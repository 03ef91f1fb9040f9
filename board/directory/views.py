"""Views of the directory feature."""

from flask import Blueprint

bp = Blueprint("directory", __name__)
