import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

# Production unless told otherwise: a server started without DJANGO_SETTINGS_MODULE refuses to run
# without a SECRET_KEY and ALLOWED_HOSTS rather than serving with DEBUG on and a known key. `make run`
# and manage.py choose the local settings themselves.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retail_site.settings.production")

application = get_wsgi_application()

# Import the URLconf, and with it every view, now rather than on the first request (about two seconds):
# gunicorn's --preload then starts each worker with them loaded, so no early request waits for imports.
_ = get_resolver().url_patterns
