// French and English. t(key, ...args) replaces {0}, {1}… with the arguments; a missing French text falls back to
// English. The choice is kept for the tab (sessionStorage), like everything the console keeps.
const TEXTS = {
  en: {
    skip: 'Skip to content', language: 'Language', signout: 'Sign out',
    whoami: 'Signed in as {0}', 'whoami.unknown': 'Signed in (who the key is cannot be asked now)',
    'nav.documents': 'Documents', 'nav.search': 'Search', 'nav.chat': 'Chat', 'nav.webhooks': 'Webhooks', 'nav.usage': 'Usage', 'nav.audit': 'Audit',
    'signin.title': 'Sign in to Osfria', 'signin.help': 'Paste your API key (sk-osfria-…). It stays in this tab only and is forgotten when the tab closes.',
    'signin.key': 'API key', 'signin.submit': 'Sign in', 'signin.wrong': 'This API key is not valid: it is unknown or was revoked. Check it and try again.',
    'error.401': 'Your key is no longer accepted. Sign in again.', 'error.403': 'Your key may not do this.',
    'error.network': 'The platform cannot be reached.', 'error.generic': 'The request failed.',
    show: 'Show', delete: 'Delete', yes: 'yes', no: 'no', collection: 'Collection', department: 'Department', confidential: 'Confidential',
    'documents.title': 'Documents', 'documents.none': 'No document you may read in this collection.', 'documents.count': '{0} document(s)',
    'documents.name': 'Name', 'documents.status': 'Status', 'documents.version': 'Version', 'documents.uploaded': 'Uploaded',
    'documents.actions': 'Actions', 'documents.progress': 'Indexing progress', 'documents.newVersion': 'New version',
    'documents.confirmDelete': 'Delete "{0}" and its index entries? This cannot be undone.', 'documents.deleted': '"{0}" deleted.',
    'documents.versioned': 'New version of "{0}" sent.', 'documents.upload': 'Upload', 'documents.drop': 'Drop files here, or choose them below.',
    'documents.file': 'Files', 'documents.metadata': 'Other metadata (JSON object, optional)', 'documents.send': 'Upload',
    'documents.uploading': 'Upload progress', 'documents.sent': '"{0}" uploaded as {1}.', 'documents.badMetadata': 'The metadata is not a JSON object.',
    'status.processing': 'processing', 'status.indexed': 'indexed', 'status.failed': 'failed',
    'search.title': 'Search', 'search.query': 'Query', 'search.mode': 'Mode', 'search.topK': 'Results (top_k)', 'search.threshold': 'Score threshold',
    'search.filters': 'Filters (key=value, comma-separated)', 'search.submit': 'Search', 'search.found': '{0} result(s) in {1} ms',
    'search.page': 'page', 'search.score': 'score', 'search.badFilters': 'Filters are written key=value, separated by commas.',
    'search.noCollection': 'No collection of that name that you may read.',
    'mode.hybrid': 'hybrid', 'mode.dense': 'dense (meaning)', 'mode.keyword': 'keyword',
    'chat.title': 'Chat', 'chat.model': 'Model', 'chat.rag': 'Answer from my documents', 'chat.collections': 'Collections (comma-separated)',
    'chat.prompt': 'Your message (Ctrl+Enter sends)', 'chat.send': 'Send', 'chat.stop': 'Stop', 'chat.clear': 'New conversation',
    'chat.you': 'You:', 'chat.sources': 'Sources',
    'webhooks.title': 'Webhooks', 'webhooks.create': 'New subscription', 'webhooks.url': 'Receiver URL', 'webhooks.events': 'Events',
    'webhooks.createButton': 'Create', 'webhooks.secretOnce': 'The signing secret, shown this once: store it in your receiver now.',
    'webhooks.none': 'No subscription yet.', 'webhooks.active': 'active', 'webhooks.paused': 'paused', 'webhooks.pause': 'Pause',
    'webhooks.resume': 'Resume', 'webhooks.ping': 'Ping', 'webhooks.pinged': 'Ping sent.', 'webhooks.deliveries': 'Deliveries',
    'webhooks.confirmDelete': 'Delete the subscription to {0} and its pending deliveries?', 'webhooks.noDeliveries': 'No delivery yet.',
    'webhooks.event': 'Event', 'webhooks.status': 'Status', 'webhooks.attempts': 'Attempts', 'webhooks.created': 'Created',
    'delivery.pending': 'pending', 'delivery.delivered': 'delivered', 'delivery.exhausted': 'exhausted (every retry failed)',
    'delivery.failed': 'failed (no retry)', 'delivery.skipped': 'skipped (no longer visible to you)',
    'webhooks.history': 'Attempts (time, status, error, duration)', 'webhooks.next': 'next:', 'webhooks.replay': 'Replay', 'webhooks.replayed': 'Sent again.',
    'usage.title': 'Usage', 'usage.range': 'Range', 'usage.lastDays': 'last {0} days', 'usage.key': 'Key (admins: a name, or * for all)',
    'usage.ownKey': 'your own key', 'usage.none': 'No usage.', 'usage.today': 'Today', 'usage.month': 'This month',
    'usage.noQuota': 'no quota', 'usage.totals': '{0} tokens and {1} requests over the range', 'usage.chart': 'Tokens per day',
    'usage.dailyQuota': 'daily quota',
    'audit.title': 'Audit', 'audit.any': 'any', 'audit.key': 'Key', 'audit.action': 'Action', 'audit.outcome': 'Outcome', 'audit.since': 'Since',
    'audit.limit': 'Rows', 'audit.older': 'Older entries', 'audit.none': 'No entry.', 'audit.time': 'Time', 'audit.service': 'Service',
    'audit.target': 'Target', 'audit.detail': 'Detail',
  },
  fr: {
    skip: 'Aller au contenu', language: 'Langue', signout: 'Se déconnecter',
    whoami: 'Connecté en tant que {0}', 'whoami.unknown': 'Connecté (l’identité de la clé ne peut être demandée pour l’instant)',
    'nav.documents': 'Documents', 'nav.search': 'Recherche', 'nav.chat': 'Discussion', 'nav.webhooks': 'Webhooks', 'nav.usage': 'Consommation', 'nav.audit': 'Audit',
    'signin.title': 'Connexion à Osfria', 'signin.help': 'Collez votre clé d’API (sk-osfria-…). Elle reste dans cet onglet et est oubliée à sa fermeture.',
    'signin.key': 'Clé d’API', 'signin.submit': 'Se connecter', 'signin.wrong': 'Cette clé d’API n’est pas valide : elle est inconnue ou a été révoquée. Vérifiez-la et réessayez.',
    'error.401': 'Votre clé n’est plus acceptée. Reconnectez-vous.', 'error.403': 'Votre clé ne permet pas cette action.',
    'error.network': 'La plateforme est injoignable.', 'error.generic': 'La requête a échoué.',
    show: 'Afficher', delete: 'Supprimer', yes: 'oui', no: 'non', collection: 'Collection', department: 'Département', confidential: 'Confidentiel',
    'documents.title': 'Documents', 'documents.none': 'Aucun document que vous puissiez lire dans cette collection.', 'documents.count': '{0} document(s)',
    'documents.name': 'Nom', 'documents.status': 'État', 'documents.version': 'Version', 'documents.uploaded': 'Envoyé le',
    'documents.actions': 'Actions', 'documents.progress': 'Avancement de l’indexation', 'documents.newVersion': 'Nouvelle version',
    'documents.confirmDelete': 'Supprimer « {0} » et ses entrées d’index ? C’est définitif.', 'documents.deleted': '« {0} » supprimé.',
    'documents.versioned': 'Nouvelle version de « {0} » envoyée.', 'documents.upload': 'Envoi', 'documents.drop': 'Déposez des fichiers ici, ou choisissez-les ci-dessous.',
    'documents.file': 'Fichiers', 'documents.metadata': 'Autres métadonnées (objet JSON, facultatif)', 'documents.send': 'Envoyer',
    'documents.uploading': 'Progression de l’envoi', 'documents.sent': '« {0} » envoyé : {1}.', 'documents.badMetadata': 'Les métadonnées ne sont pas un objet JSON.',
    'status.processing': 'en cours', 'status.indexed': 'indexé', 'status.failed': 'en échec',
    'search.title': 'Recherche', 'search.query': 'Requête', 'search.mode': 'Mode', 'search.topK': 'Résultats (top_k)', 'search.threshold': 'Score minimal',
    'search.filters': 'Filtres (clé=valeur, séparés par des virgules)', 'search.submit': 'Rechercher', 'search.found': '{0} résultat(s) en {1} ms',
    'search.page': 'page', 'search.score': 'score', 'search.badFilters': 'Les filtres s’écrivent clé=valeur, séparés par des virgules.',
    'search.noCollection': 'Aucune collection de ce nom que vous puissiez lire.',
    'mode.hybrid': 'hybride', 'mode.dense': 'dense (sens)', 'mode.keyword': 'mots-clés',
    'chat.title': 'Discussion', 'chat.model': 'Modèle', 'chat.rag': 'Répondre à partir de mes documents', 'chat.collections': 'Collections (séparées par des virgules)',
    'chat.prompt': 'Votre message (Ctrl+Entrée envoie)', 'chat.send': 'Envoyer', 'chat.stop': 'Arrêter', 'chat.clear': 'Nouvelle discussion',
    'chat.you': 'Vous :', 'chat.sources': 'Sources',
    'webhooks.title': 'Webhooks', 'webhooks.create': 'Nouvel abonnement', 'webhooks.url': 'URL du récepteur', 'webhooks.events': 'Événements',
    'webhooks.createButton': 'Créer', 'webhooks.secretOnce': 'Le secret de signature, affiché cette seule fois : enregistrez-le maintenant dans votre récepteur.',
    'webhooks.none': 'Aucun abonnement.', 'webhooks.active': 'actif', 'webhooks.paused': 'en pause', 'webhooks.pause': 'Mettre en pause',
    'webhooks.resume': 'Reprendre', 'webhooks.ping': 'Ping', 'webhooks.pinged': 'Ping envoyé.', 'webhooks.deliveries': 'Livraisons',
    'webhooks.confirmDelete': 'Supprimer l’abonnement vers {0} et ses livraisons en attente ?', 'webhooks.noDeliveries': 'Aucune livraison.',
    'webhooks.event': 'Événement', 'webhooks.status': 'État', 'webhooks.attempts': 'Tentatives', 'webhooks.created': 'Créée le',
    'delivery.pending': 'en attente', 'delivery.delivered': 'livrée', 'delivery.exhausted': 'abandonnée (toutes les tentatives ont échoué)',
    'delivery.failed': 'en échec (sans nouvelle tentative)', 'delivery.skipped': 'non envoyée (plus visible pour vous)',
    'webhooks.history': 'Tentatives (heure, statut, erreur, durée)', 'webhooks.next': 'prochaine :', 'webhooks.replay': 'Rejouer', 'webhooks.replayed': 'Renvoyée.',
    'usage.title': 'Consommation', 'usage.range': 'Période', 'usage.lastDays': '{0} derniers jours', 'usage.key': 'Clé (admins : un nom, ou * pour toutes)',
    'usage.ownKey': 'votre clé', 'usage.none': 'Aucune consommation.', 'usage.today': 'Aujourd’hui', 'usage.month': 'Ce mois-ci',
    'usage.noQuota': 'sans quota', 'usage.totals': '{0} jetons et {1} requêtes sur la période', 'usage.chart': 'Jetons par jour',
    'usage.dailyQuota': 'quota journalier',
    'audit.title': 'Audit', 'audit.any': 'tous', 'audit.key': 'Clé', 'audit.action': 'Action', 'audit.outcome': 'Résultat', 'audit.since': 'Depuis',
    'audit.limit': 'Lignes', 'audit.older': 'Entrées plus anciennes', 'audit.none': 'Aucune entrée.', 'audit.time': 'Heure', 'audit.service': 'Service',
    'audit.target': 'Cible', 'audit.detail': 'Détail',
  },
};

const STORE = 'osfria.lang';
let current = sessionStorage.getItem(STORE) || ((navigator.language || 'en').toLowerCase().startsWith('fr') ? 'fr' : 'en');

export function language() {
  return current;
}

export function setLanguage(lang) {
  current = TEXTS[lang] ? lang : 'en';
  sessionStorage.setItem(STORE, current);
}

export function t(key, ...args) {
  const text = TEXTS[current][key] ?? TEXTS.en[key] ?? key;
  return text.replace(/\{(\d+)\}/g, (m, i) => String(args[Number(i)] ?? ''));
}

/** The page's fixed texts (data-i18n) and its language attribute. */
export function translateStatic() {
  document.documentElement.lang = current;
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
}
