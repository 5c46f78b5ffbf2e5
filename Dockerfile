# Bevoegd's container image: the `bevoegd` command (API server, projection worker, imports).
# In a container the ledger always talks to an external PostgreSQL through BEVOEGD_DATABASE_URL
# (see docker-compose.yml): the embedded server (the `embedded` extra) is not installed.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A numeric user, so that runtimes checking runAsNonRoot can tell it is not root.
RUN groupadd --gid 10001 bevoegd \
    && useradd --uid 10001 --gid 10001 --create-home bevoegd

WORKDIR /build

# The dependencies first, read from pyproject.toml at the versions constraints.txt pins (the ones
# the tests ran with), so that this layer is rebuilt only when either file changes, not on every
# source edit.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb')); print(*p['project']['dependencies'], sep=chr(10))" > /tmp/requirements.txt \
    && pip install -c constraints.txt -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the project itself (without the test extra).
COPY . .
RUN pip install -c constraints.txt .

USER 10001:10001
WORKDIR /home/bevoegd

EXPOSE 8000
CMD ["bevoegd", "serve", "--host", "0.0.0.0", "--port", "8000"]
