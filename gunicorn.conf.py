"""gunicorn's production settings for the portal. gunicorn reads this file from the folder it
starts in: ``gunicorn --bind 127.0.0.1:8000 'skillsup:create_app()'`` run from the project
folder uses them, and so does ``make bench`` (bench/load.py), so that "the production server
settings" are one thing. A flag on the command line (``--workers 4``) overrides its setting.

Threaded workers, because of the enrolment-opening rush of ``make bench`` (the README's
production section has the figures): gunicorn's sync workers close the connection after every
answer and serve one request per process at a time, so every page costs the browser a new
connection and a request waiting on PostgreSQL holds a whole process. A gthread worker keeps
the browser's connection open between requests (an idle one waits in the worker's poller and
holds no thread) and, while one thread waits on the database, another uses the processor.
"""

# One process per core (this is a two-core machine): one Python process cannot use more than
# one core for Python, and each keeps its own database pool and caches. SQLAlchemy's pool (5
# connections and 10 more in overflow) covers the threads.
workers = 2
worker_class = "gthread"
threads = 4
# Seconds a kept connection may wait for the browser's next request: longer than the pause
# between a form's answer and the next click of someone who knows where they are going, short
# enough that idle connections do not pile up (gunicorn's default is 2 s).
keepalive = 5
# The exports of ~10,000 rows take seconds on a busy machine; a stuck request still ends.
timeout = 120
