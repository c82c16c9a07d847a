"""A small shop inventory: the file `python -m server.demo` completes code in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Item:
    name: str
    price: float
    quantity: int


def total_value(items: list[Item]) -> float:
    """The value of everything in stock."""
    return sum(item.price * item.quantity for item in items)


def out_of_stock(items: list[Item]) -> list[str]:
    """The names of the items we have none of."""
    names = []
    for item in items:
        if item.quantity == 0:
            names.append(item.name)
    return names


def in_stock(items: list[Item]) -> list[str]:
    """The names of the items we have some of."""
    names = []
    for item in items:
        if item.quantity > 0:
            names.append(item.name)
    return names


def cheapest(items: list[Item]) -> Item:
    """The item with the lowest price."""
    return min(items, key=lambda item: item.price)


def read_items(path: str) -> list[Item]:
    """Items from a CSV file with the columns name, price, quantity."""
    items = []
    with open(path) as file:
        for line in file:
            name, price, quantity = line.strip().split(",")
            items.append(Item(name, float(price), int(quantity)))
    return items


if __name__ == "__main__":
    stock = [Item("apple", 0.5, 10), Item("pear", 0.75, 0), Item("plum", 0.25, 4)]
    print(total_value(stock))
    print(out_of_stock(stock))
