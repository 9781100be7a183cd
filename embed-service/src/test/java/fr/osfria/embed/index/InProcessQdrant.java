package fr.osfria.embed.index;

import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.stub.StreamObserver;
import io.qdrant.client.grpc.CollectionsGrpc;
import io.qdrant.client.grpc.Common;
import io.qdrant.client.grpc.JsonWithInt;
import io.qdrant.client.grpc.Points;
import io.qdrant.client.grpc.PointsGrpc;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Stands in for a Qdrant server, which cannot run here: a gRPC server built from the Qdrant client's own service
 * stubs, keeping points in memory and evaluating the filters and cosine search the adapter relies on. It also
 * keeps every upsert request as sent, so tests can check what leaves the service.
 */
final class InProcessQdrant implements AutoCloseable {

    private record Collection(int dimension, Map<String, Points.PointStruct> points) {
    }

    private final Map<String, Collection> collections = new ConcurrentHashMap<>();
    final List<Points.UpsertPoints> upserts = new CopyOnWriteArrayList<>();
    final List<String> payloadIndexes = new CopyOnWriteArrayList<>();
    private final Server server;

    InProcessQdrant() throws IOException {
        server = ServerBuilder.forPort(0).addService(new CollectionsService()).addService(new PointsService()).build().start();
    }

    int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.shutdownNow();
    }

    private final class CollectionsService extends CollectionsGrpc.CollectionsImplBase {
        @Override
        public void collectionExists(io.qdrant.client.grpc.Collections.CollectionExistsRequest request,
                                     StreamObserver<io.qdrant.client.grpc.Collections.CollectionExistsResponse> out) {
            reply(out, io.qdrant.client.grpc.Collections.CollectionExistsResponse.newBuilder().setResult(
                    io.qdrant.client.grpc.Collections.CollectionExists.newBuilder()
                            .setExists(collections.containsKey(request.getCollectionName()))).build());
        }

        @Override
        public void create(io.qdrant.client.grpc.Collections.CreateCollection request,
                           StreamObserver<io.qdrant.client.grpc.Collections.CollectionOperationResponse> out) {
            int size = (int) request.getVectorsConfig().getParams().getSize();
            if (request.getVectorsConfig().getParams().getDistance() != io.qdrant.client.grpc.Collections.Distance.Cosine) {
                out.onError(io.grpc.Status.INVALID_ARGUMENT.withDescription("expected cosine distance").asRuntimeException());
                return;
            }
            collections.put(request.getCollectionName(), new Collection(size, new ConcurrentHashMap<>()));
            reply(out, io.qdrant.client.grpc.Collections.CollectionOperationResponse.newBuilder().setResult(true).build());
        }

        @Override
        public void get(io.qdrant.client.grpc.Collections.GetCollectionInfoRequest request,
                        StreamObserver<io.qdrant.client.grpc.Collections.GetCollectionInfoResponse> out) {
            Collection c = collections.get(request.getCollectionName());
            reply(out, io.qdrant.client.grpc.Collections.GetCollectionInfoResponse.newBuilder().setResult(
                    io.qdrant.client.grpc.Collections.CollectionInfo.newBuilder().setConfig(
                            io.qdrant.client.grpc.Collections.CollectionConfig.newBuilder().setParams(
                                    io.qdrant.client.grpc.Collections.CollectionParams.newBuilder().setVectorsConfig(
                                            io.qdrant.client.grpc.Collections.VectorsConfig.newBuilder().setParams(
                                                    io.qdrant.client.grpc.Collections.VectorParams.newBuilder().setSize(c.dimension()))))))
                    .build());
        }
    }

    private final class PointsService extends PointsGrpc.PointsImplBase {
        @Override
        public void upsert(Points.UpsertPoints request, StreamObserver<Points.PointsOperationResponse> out) {
            upserts.add(request);
            Collection c = collections.get(request.getCollectionName());
            for (Points.PointStruct p : request.getPointsList()) {
                if (vector(p).length != c.dimension()) {
                    out.onError(io.grpc.Status.INVALID_ARGUMENT.withDescription("wrong vector size").asRuntimeException());
                    return;
                }
                c.points().put(p.getId().getUuid(), p);
            }
            done(out);
        }

        @Override
        public void delete(Points.DeletePoints request, StreamObserver<Points.PointsOperationResponse> out) {
            Collection c = collections.get(request.getCollectionName());
            Common.Filter filter = request.getPoints().getFilter();
            c.points().values().removeIf(p -> matches(p, filter));
            done(out);
        }

        @Override
        public void count(Points.CountPoints request, StreamObserver<Points.CountResponse> out) {
            Collection c = collections.get(request.getCollectionName());
            long n = c.points().values().stream().filter(p -> !request.hasFilter() || matches(p, request.getFilter())).count();
            reply(out, Points.CountResponse.newBuilder().setResult(Points.CountResult.newBuilder().setCount(n)).build());
        }

        @Override
        public void search(Points.SearchPoints request, StreamObserver<Points.SearchResponse> out) {
            Collection c = collections.get(request.getCollectionName());
            float[] q = new float[request.getVectorCount()];
            for (int i = 0; i < q.length; i++) {
                q[i] = request.getVector(i);
            }
            List<Points.ScoredPoint> scored = new ArrayList<>();
            for (Points.PointStruct p : c.points().values()) {
                if (request.hasFilter() && !matches(p, request.getFilter())) {
                    continue;
                }
                scored.add(Points.ScoredPoint.newBuilder().setId(p.getId()).setScore(cosine(q, vector(p)))
                        .putAllPayload(p.getPayloadMap()).build());
            }
            scored.sort(Comparator.comparingDouble(Points.ScoredPoint::getScore).reversed());
            reply(out, Points.SearchResponse.newBuilder()
                    .addAllResult(scored.subList(0, (int) Math.min(request.getLimit(), scored.size()))).build());
        }

        @Override
        public void scroll(Points.ScrollPoints request, StreamObserver<Points.ScrollResponse> out) {
            Collection c = collections.get(request.getCollectionName());
            // by id, from the offset on; a further page is announced by its first id, as Qdrant does
            int limit = request.hasLimit() ? request.getLimit() : 10;
            List<Points.PointStruct> matching = c.points().values().stream()
                    .filter(p -> !request.hasFilter() || matches(p, request.getFilter()))
                    .sorted(Comparator.comparing(p -> p.getId().getUuid()))
                    .filter(p -> !request.hasOffset() || p.getId().getUuid().compareTo(request.getOffset().getUuid()) >= 0)
                    .limit(limit + 1L).toList();
            Points.ScrollResponse.Builder response = Points.ScrollResponse.newBuilder().addAllResult(matching.stream().limit(limit)
                    .map(p -> Points.RetrievedPoint.newBuilder().setId(p.getId()).putAllPayload(p.getPayloadMap()).build())
                    .toList());
            if (matching.size() > limit) {
                response.setNextPageOffset(matching.get(limit).getId());
            }
            reply(out, response.build());
        }

        @Override
        public void setPayload(Points.SetPayloadPoints request, StreamObserver<Points.PointsOperationResponse> out) {
            Collection c = collections.get(request.getCollectionName());
            Common.Filter filter = request.getPointsSelector().getFilter();
            c.points().replaceAll((id, p) -> matches(p, filter) ? p.toBuilder().putAllPayload(request.getPayloadMap()).build() : p);
            done(out);
        }

        @Override
        public void createFieldIndex(Points.CreateFieldIndexCollection request, StreamObserver<Points.PointsOperationResponse> out) {
            payloadIndexes.add(request.getFieldName() + ":" + request.getFieldType());
            done(out);
        }
    }

    /** Qdrant's filter semantics for the conditions the adapter sends: must all, should any, must_not none. */
    static boolean matches(Points.PointStruct p, Common.Filter filter) {
        for (Common.Condition c : filter.getMustList()) {
            if (!holds(p, c)) {
                return false;
            }
        }
        if (filter.getShouldCount() > 0 && filter.getShouldList().stream().noneMatch(c -> holds(p, c))) {
            return false;
        }
        return filter.getMustNotList().stream().noneMatch(c -> holds(p, c));
    }

    private static boolean holds(Points.PointStruct p, Common.Condition condition) {
        if (condition.hasFilter()) {
            return matches(p, condition.getFilter());
        }
        if (condition.hasHasId()) {
            return condition.getHasId().getHasIdList().contains(p.getId());
        }
        if (condition.hasIsEmpty()) {
            JsonWithInt.Value v = p.getPayloadMap().get(condition.getIsEmpty().getKey());
            return v == null || v.hasNullValue() || v.hasListValue() && v.getListValue().getValuesCount() == 0;
        }
        Common.FieldCondition field = condition.getField();
        JsonWithInt.Value value = p.getPayloadMap().get(field.getKey());
        if (value == null) {
            return false;
        }
        List<JsonWithInt.Value> values = value.hasListValue() ? value.getListValue().getValuesList() : List.of(value);
        if (field.hasMatch()) {
            Common.Match m = field.getMatch();
            return values.stream().anyMatch(v -> switch (m.getMatchValueCase()) {
                case KEYWORD -> v.hasStringValue() && v.getStringValue().equals(m.getKeyword());
                case KEYWORDS -> v.hasStringValue() && m.getKeywords().getStringsList().contains(v.getStringValue());
                case INTEGER -> v.hasIntegerValue() && v.getIntegerValue() == m.getInteger();
                case BOOLEAN -> v.hasBoolValue() && v.getBoolValue() == m.getBoolean();
                default -> throw new UnsupportedOperationException("match " + m.getMatchValueCase() + " is not used by Osfria");
            });
        }
        if (field.hasRange()) {
            Common.Range r = field.getRange();
            return values.stream().anyMatch(v -> {
                double x = v.hasIntegerValue() ? v.getIntegerValue() : v.getDoubleValue();
                return (!r.hasLt() || x < r.getLt()) && (!r.hasGt() || x > r.getGt())
                        && (!r.hasLte() || x <= r.getLte()) && (!r.hasGte() || x >= r.getGte());
            });
        }
        throw new UnsupportedOperationException("condition " + field + " is not used by Osfria");
    }

    private static float[] vector(Points.PointStruct p) {
        Points.Vector v = p.getVectors().getVector();
        List<Float> data = v.hasDense() ? v.getDense().getDataList() : v.getDataList();
        float[] out = new float[data.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = data.get(i);
        }
        return out;
    }

    private static float cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return (float) (dot / Math.sqrt(na * nb));
    }

    private static <T> void reply(StreamObserver<T> out, T response) {
        out.onNext(response);
        out.onCompleted();
    }

    private static void done(StreamObserver<Points.PointsOperationResponse> out) {
        reply(out, Points.PointsOperationResponse.newBuilder().setResult(
                Points.UpdateResult.newBuilder().setStatus(Points.UpdateStatus.Completed)).build());
    }
}
