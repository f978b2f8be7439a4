"""A small program with a bug, for `make demo`.

The invoice total is wrong for customers with a discount, and an empty
order crashes. Run it under the debugger:  sleuth examples/buggy.py
"""


def line_total(item):
    return item["price"] * item["qty"]


def apply_discount(total, percent):
    # Bug: the discount is added instead of subtracted.
    return total + total * percent / 100


def invoice(order):
    subtotal = sum(line_total(item) for item in order["items"])
    total = apply_discount(subtotal, order.get("discount", 0))
    average = total / len(order["items"])
    return {"customer": order["customer"], "total": round(total, 2), "average": round(average, 2)}


ORDERS = [
    {"customer": "ada", "items": [{"price": 10.0, "qty": 3}, {"price": 2.5, "qty": 4}]},
    {"customer": "bob", "discount": 10, "items": [{"price": 100.0, "qty": 1}]},
    {"customer": "cy", "items": []},
]


def main():
    for order in ORDERS:
        print(invoice(order))


if __name__ == "__main__":
    main()
