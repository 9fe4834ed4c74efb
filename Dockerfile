FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md ./
COPY partnerflow ./partnerflow
RUN pip install --no-cache-dir .
RUN useradd --create-home partnerflow
USER partnerflow
CMD ["partnerflow", "api", "--port", "8000"]
