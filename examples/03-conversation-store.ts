// Example 3 of the interface document: a handler that depends on the ConversationStore port,
// here MongoConversationStore on MongoDB (MONGO_URL, else the bundled FerretDB).
// Run: npx tsx examples/03-conversation-store.ts
import { MongoConversationStore, type ConversationStore, type StoredMessage } from 'voxq';
import { exampleStores } from './support/offline.js';

class SessionHandler {
  constructor(private readonly store: ConversationStore) {}

  async saveConversationTurn(sessionId: string, userMessage: string, assistantResponse: string): Promise<void> {
    await this.store.saveMessage({ sessionId, role: 'user', content: userMessage, metadata: { timestamp: '2025-01-01T10:00:00' } });
    await this.store.saveMessage({ sessionId, role: 'assistant', content: assistantResponse, metadata: { model: 'gpt-4', tokens: 150 } });
  }

  async getConversationSummary(sessionId: string): Promise<{ messageCount: number; recentMessages: StoredMessage[] }> {
    const history = await this.store.history(sessionId, { limit: 10 });
    const stats = await this.store.statistics(sessionId);
    return { messageCount: stats.messageCount, recentMessages: history.slice(-5) };
  }
}

const mongo = await exampleStores();
try {
  const handler = new SessionHandler(new MongoConversationStore(mongo.db));
  await handler.saveConversationTurn('sess-example', 'Que horas são?', 'São três horas.');
  await handler.saveConversationTurn('sess-example', 'E amanhã?', 'Amanhã é sábado.');
  const summary = await handler.getConversationSummary('sess-example');
  console.log(`message_count: ${summary.messageCount}`);
  for (const message of summary.recentMessages) console.log(`${message.role}: ${message.content}`);
} finally {
  await mongo.close();
}

// prints: message_count: 4
// prints: user: Que horas são\?\nassistant: São três horas\.\nuser: E amanhã\?\nassistant: Amanhã é sábado\.
