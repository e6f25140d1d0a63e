// Example 4 of the interface document: a service that depends on the SessionManager port, here
// MongoSessionManager on MongoDB (MONGO_URL, else the bundled FerretDB); a session's messages go
// to its ConversationStore. Run: npx tsx examples/04-session-manager.ts
import { MongoConversationStore, MongoSessionManager, type ChatMessage, type SessionManager } from 'voxq';
import { exampleStores } from './support/offline.js';

class UserSessionService {
  constructor(private readonly sessions: SessionManager) {}

  async startNewConversation(userId: string, device: string): Promise<{ sessionId: string; userId: string }> {
    const session = await this.sessions.createSession(userId, { device, startedAt: '2025-01-01T10:00:00' });
    return { sessionId: session.sessionId, userId: session.userId };
  }

  continueConversation(sessionId: string, userInput: string, botResponse: string): Promise<boolean> {
    return this.sessions.addInteraction({ sessionId, userMessage: userInput, assistantResponse: botResponse, audioDurationMs: 1500, voiceUsed: 'pf_dora' });
  }

  getContextForLlm(sessionId: string): Promise<ChatMessage[]> {
    return this.sessions.context(sessionId, { maxMessages: 10 });
  }
}

const mongo = await exampleStores();
try {
  const service = new UserSessionService(new MongoSessionManager(mongo.db, new MongoConversationStore(mongo.db)));
  const { sessionId, userId } = await service.startNewConversation('user-42', 'kitchen');
  console.log(`Session ${sessionId.startsWith('sess_') ? 'sess_…' : sessionId} for ${userId}`);
  console.log(`Added: ${await service.continueConversation(sessionId, 'Que horas são?', 'São três horas.')}`);
  console.log(`Added to an unknown session: ${await service.continueConversation('sess_unknown', 'Oi', 'Olá')}`);
  for (const message of await service.getContextForLlm(sessionId)) console.log(`context ${message.role}: ${message.content}`);
} finally {
  await mongo.close();
}

// prints: Session sess_… for user-42
// prints: Added: true
// prints: Added to an unknown session: false
// prints: context user: Que horas são\?\ncontext assistant: São três horas\.
