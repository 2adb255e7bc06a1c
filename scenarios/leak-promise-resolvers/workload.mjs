// ES module workload: 60 requests go out per iteration; only the first one gets its reply.
export async function iteration() {
  const { sendRequest, deliverReply } = globalThis.rpc;
  const answered = sendRequest();
  for (let i = 0; i < 59; i++) sendRequest();
  deliverReply(answered.requestId, 'ok');
  await answered.promise;
}
