package io.shardlift.ops;

public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.out.println("shardlift");
    }
}
