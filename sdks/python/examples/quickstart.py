# The documentation's Python example ("SDK et librairies"), as written there but for the host and the key, which
# come from the environment (OSFRIA_BASE_URL, OSFRIA_API_KEY). It uploads rapport.pdf from the current directory.
import os

from osfria import OsfriaClient

client = OsfriaClient(
    api_key=os.environ["OSFRIA_API_KEY"],
    base_url=os.environ["OSFRIA_BASE_URL"]
)

# Chat completion
response = client.chat.completions.create(
    model="deepseek-r2-78b-int4",
    messages=[
        {"role": "system", "content": "Tu es un assistant IA français spécialisé en entreprise."},
        {"role": "user", "content": "Bonjour"}
    ]
)

# Upload document avec RAG+
document = client.documents.upload(
    file="rapport.pdf",
    collection="knowledge-base"
)
