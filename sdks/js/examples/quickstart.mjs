// The documentation's JavaScript example ("SDK et librairies"), as written there but for the host and the key,
// which come from the environment (OSFRIA_BASE_URL, OSFRIA_API_KEY).
import { OsfriaClient } from '@osfria/sdk';

const client = new OsfriaClient({
    apiKey: process.env.OSFRIA_API_KEY,
    baseURL: process.env.OSFRIA_BASE_URL
});

const completion = await client.chat.completions.create({
    model: 'deepseek-r2-78b-int4',
    messages: [{ role: 'user', content: 'Bonjour' }]
});
