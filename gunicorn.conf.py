"""gunicorn's production settings for the portal. gunicorn reads this file from the folder it
starts in: ``gunicorn --bind 127.0.0.1:8000 'skillsup:create_app()'`` run from the project
folder uses them, and so does ``make bench`` (bench/load.py), so that "the production server
settings" are one thing. A flag on the command line (``--workers 4``) overrides its setting.

Sync workers, because of the enrolment-opening rush of ``make bench`` (the README's production
section has the figures): with pages of 7 to 19 ms of CPU, four single-threaded processes kept
both cores busy with the least overhead: they were ahead of threaded workers (gthread 2 × 4,
keep-alive 5 s) in every round, with 1,000 learners in a minute and when the machine was
overloaded with 2,000, and of gthread 4 × 2 in the round it ran. A sync worker serves one
request at a time and closes the connection after it: put a proxy that buffers requests and
answers in front (nginx, a load balancer), so that a slow browser never holds a worker.
"""

# Two processes per core (this is a two-core machine): one uses the core while another waits
# on PostgreSQL. Each keeps its own database pool and caches.
workers = 4
worker_class = "sync"
# The exports of ~10,000 rows take seconds on a busy machine; a stuck request still ends.
timeout = 120
