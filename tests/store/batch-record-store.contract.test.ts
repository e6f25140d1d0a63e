// The BatchRecordStore contract against both implementations.
import { MemoryBatchRecordStore } from '../../src/shared/store/memory-batch-record-store.js';
import { MongoBatchRecordStore } from '../../src/shared/store/mongo-batch-record-store.js';
import { connectTestDb } from '../support/mongo.js';
import { describeBatchRecordStoreContract } from '../contracts/batch-record-store.contract.js';

describeBatchRecordStoreContract('memory', () => Promise.resolve({ impl: new MemoryBatchRecordStore(), close: () => Promise.resolve() }));

describeBatchRecordStoreContract('mongo', async () => {
  const test = await connectTestDb('batchrec');
  return { impl: new MongoBatchRecordStore(test.db), close: () => test.drop() };
});
