// The ApiKeyStore contract against both implementations.
import { MemoryApiKeyStore } from '../../src/shared/store/memory-api-key-store.js';
import { API_KEYS_COLLECTION, MongoApiKeyStore } from '../../src/shared/store/mongo-api-key-store.js';
import { describeApiKeyStoreContract } from '../contracts/api-key-store.contract.js';
import { connectTestDb } from '../support/mongo.js';

describeApiKeyStoreContract('memory', () => {
  const impl = new MemoryApiKeyStore();
  return Promise.resolve({ impl, stored: () => Promise.resolve(impl.stored()), close: () => Promise.resolve() });
});

describeApiKeyStoreContract('mongo', async () => {
  const test = await connectTestDb('apikeys');
  return {
    impl: new MongoApiKeyStore(test.db),
    stored: () => test.db.collection(API_KEYS_COLLECTION).find({}).toArray(),
    close: () => test.drop(),
  };
});
